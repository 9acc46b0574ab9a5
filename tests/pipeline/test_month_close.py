"""Month close end to end: closed months never change, later corrections become prior-period adjustments,
reopening keeps every version, and the run history explains what changed between two runs.

Each test runs the real pipeline (ingestion -> dbt -> gated publication) on the small generated company, so
they are marked slow; CI runs them.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest

from .incremental import assert_incremental_models_match_full_rebuild

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)

pytestmark = pytest.mark.slow


def _published(platform, month: date) -> tuple[list, list]:
    """Every published row of a month, publication metadata included: 'byte-identical' means all of it."""
    return (
        platform.query("select * from published.monthly_payouts where payout_month = ? order by payout_id", [month]),
        platform.query(
            "select * from published.commission_ledger where payout_month = ? order by ledger_line_id", [month]
        ),
    )


def _rep_with_earnings(platform, month: date) -> str:
    """An account executive paid on monthly quota in `month`, below the payout cap (so a quota cut moves pay)."""
    return platform.query(
        """select p.employee_id from published.monthly_payouts as p
           where p.payout_month = ? and p.quota_period = 'month' and p.gross_commission_amount > 0
             and p.cap_adjustment_amount = 0 and p.period_attainment between 0.2 and 0.8
           order by p.gross_commission_amount desc limit 1""",
        [month],
    )[0][0]


def _land_quota_correction(platform, employee_id: str, month: date, factor: Decimal) -> Decimal:
    """Land a later version of the employee's quota row for `month` (a retroactive quota-sheet correction)."""
    period_type, period_start, amount, currency = platform.query(
        """select period_type, period_start, quota_amount, currency from raw.salesops__quotas
           where employee_id = ? and period_start = ? order by updated_at desc limit 1""",
        [employee_id, month],
    )[0]
    corrected = (amount * factor).quantize(Decimal("0.01"))
    landed = platform.landing_dir / "salesops" / "quotas" / f"quotas_correction_{employee_id}_{month:%Y-%m}.csv"
    with landed.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["employee_id", "period_type", "period_start", "quota_amount", "currency", "updated_at"])
        corrected_at = "2025-03-20T09:00:00"
        writer.writerow([employee_id, period_type, period_start.isoformat(), corrected, currency, corrected_at])
    return corrected


def test_quota_corrected_after_close_is_paid_as_prior_period_adjustment_and_closed_months_stay_identical(
    platform, tmp_path
):
    """February is closed; a quota correction for February lands in March. February's published rows stay
    byte-identical; March's publication carries prior-period adjustment lines that reference February, the
    payee credit and the quota change, and pay exactly what February computes to now minus what was paid.
    The run-to-run diff of March names the payee and says the quota changed."""
    from orchestration.publication.run_diff import diff_runs, runs_of_month

    assert platform.run("publish_month_job", JAN, FEB).success
    closed_before = {month: _published(platform, month) for month in (JAN, FEB)}
    employee_id = _rep_with_earnings(platform, FEB)
    assert platform.run("nightly_preview_job", MAR, MAR).success  # last night's preview of March

    _land_quota_correction(platform, employee_id, FEB, Decimal("0.5"))
    assert platform.run("publish_month_job", MAR, MAR).success
    # March's run recomputed the engine incrementally from February (the correction's month) only
    assert_incremental_models_match_full_rebuild(platform.warehouse_path, tmp_path)

    for month in (JAN, FEB):
        assert _published(platform, month) == closed_before[month], f"{month:%Y-%m} is closed and must not change"

    adjustments = platform.query(
        """select adjusted_month, ledger_subject, change_reason, amount_before, amount_after, amount, explanation
           from published.commission_ledger
           where payout_month = ? and employee_id = ? and entry_type = 'prior_period_adjustment'
           order by ledger_subject""",
        [MAR, employee_id],
    )
    assert adjustments, "a halved quota re-rates February: March must carry prior-period adjustments"
    assert {a[0] for a in adjustments} == {FEB}
    reasons = {a[2] for a in adjustments}
    assert "quota_changed" in reasons and reasons <= {"quota_changed", "rerated"}
    for _, subject, _, before, after, amount, explanation in adjustments:
        assert amount == after - before != 0
        assert "2025-02-01" in explanation and subject in explanation

    # The adjustment is exactly: February as computed now - February as published (no other closed month moved).
    (recomputed_feb,) = platform.query(
        "select sum(amount) from intermediate.int_ledger_lines where payout_month = ? and employee_id = ?",
        [FEB, employee_id],
    )[0]
    (published_feb,) = platform.query(
        """select sum(amount) from published.commission_ledger
           where payout_month = ? and employee_id = ? and entry_type <> 'payout'""",
        [FEB, employee_id],
    )[0]
    assert sum(a[5] for a in adjustments) == recomputed_feb - published_feb
    (in_payout,) = platform.query(
        """select prior_period_adjustment_amount from published.monthly_payouts
           where payout_month = ? and employee_id = ?""",
        [MAR, employee_id],
    )[0]
    assert in_payout == recomputed_feb - published_feb

    # The correction re-prices this payee only: no other payee gets an adjustment.
    assert platform.query("select count(*) from intermediate.int_prior_period_adjustments") == [(len(adjustments),)]

    # Run-to-run diff: the nightly preview against the close run of March.
    changes = platform.query(
        """select employee_id, net_payout_change, change_reasons from marts.fct_payout_run_changes
           where payout_month = ? and employee_id = ?""",
        [MAR, employee_id],
    )
    nightly_net, close_net = (
        r[0]
        for r in platform.query(
            """select net_payout_amount from marts.fct_payout_runs
               where payout_month = ? and employee_id = ? order by run_started_at""",
            [MAR, employee_id],
        )
    )
    # the change holds the adjustment, plus any re-rating of February's late entries booked in March
    assert len(changes) == 1 and changes[0][1] == close_net - nightly_net != 0
    assert "quota" in changes[0][2]

    import duckdb

    with duckdb.connect(str(platform.warehouse_path), read_only=True) as conn:
        runs = runs_of_month(conn, MAR)
        assert len(runs) == 2
        any_pair = {c.employee_id: c for c in diff_runs(conn, MAR, runs[0].run_id, runs[1].run_id)}
    assert any_pair[employee_id].net_payout_change == close_net - nightly_net
    assert "quota" in any_pair[employee_id].change_reasons

    # Reopening March (the month that carries the adjustment) and publishing it again keeps the adjustment in
    # version 2: what a reopened month paid does not count as paid any more.
    from orchestration.publication.publish import reopen_month

    with duckdb.connect(str(platform.warehouse_path)) as conn:
        reopen_month(conn, MAR, reopened_by="finance.ops", reason="re-run March after review")
    assert platform.run("publish_month_job", MAR, MAR).success
    assert (
        platform.query(
            """select adjusted_month, ledger_subject, change_reason, amount_before, amount_after, amount, explanation
           from published.commission_ledger
           where payout_month = ? and employee_id = ? and entry_type = 'prior_period_adjustment'
           order by ledger_subject""",
            [MAR, employee_id],
        )
        == adjustments
    )


def test_reopened_month_is_republished_as_a_new_version_and_the_old_one_stays_queryable(platform):
    """A closed month is left alone by a rerun even when its numbers would change; after an explicit, recorded
    reopen, publishing it again creates version 2, and version 1 stays in published.superseded_*."""
    import duckdb

    from orchestration.publication.publish import reopen_month

    assert platform.run("publish_month_job", JAN, FEB).success
    version_1 = _published(platform, FEB)
    employee_id = _rep_with_earnings(platform, FEB)
    (old_net,) = platform.query(
        "select net_payout_amount from published.monthly_payouts where payout_month = ? and employee_id = ?",
        [FEB, employee_id],
    )[0]
    _land_quota_correction(platform, employee_id, FEB, Decimal("0.5"))

    # Closed: a rerun of February leaves it exactly as it was.
    assert platform.run("publish_month_job", FEB, FEB).success
    assert _published(platform, FEB) == version_1

    with duckdb.connect(str(platform.warehouse_path)) as conn:
        reopen_id = reopen_month(conn, FEB, reopened_by="finance.ops", reason="quota sheet corrected for one rep")
    assert platform.run("publish_month_job", FEB, FEB).success

    versions = platform.query(
        """select publication_version, reopen_id, publication_id from audit.publications
           where payout_month = ? order by 1""",
        [FEB],
    )
    assert [(v, r) for v, r, _ in versions] == [(1, None), (2, reopen_id)]
    assert platform.query(
        "select reopened_by, reason from audit.month_reopenings where reopen_id = ?", [reopen_id]
    ) == [("finance.ops", "quota sheet corrected for one rep")]

    assert _published(platform, FEB) != version_1
    (new_net,) = platform.query(
        "select net_payout_amount from published.monthly_payouts where payout_month = ? and employee_id = ?",
        [FEB, employee_id],
    )[0]
    assert new_net > old_net, "a halved quota raises attainment, so version 2 pays the rep more"

    superseded = platform.query(
        """select * exclude (superseded_at, superseded_by_publication_id) from published.superseded_monthly_payouts
           where payout_month = ? order by payout_id""",
        [FEB],
    )
    assert superseded == version_1[0], "version 1 of February stays queryable, row for row"
    assert platform.query(
        """select distinct superseded_by_publication_id from published.superseded_commission_ledger
           where payout_month = ?""",
        [FEB],
    ) == [(versions[1][2],)]

    # The republished month is closed again and already paid at its new numbers: March adjusts nothing for it.
    assert platform.run("publish_month_job", MAR, MAR).success
    assert platform.query(
        "select count(*) from published.commission_ledger where entry_type = 'prior_period_adjustment'"
    ) == [(0,)]
