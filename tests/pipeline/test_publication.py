"""End-to-end: the Dagster job on a small generated company, in-process.

These run the real pipeline (ingestion -> dbt -> gated publication), so each takes ~30-40 s; they are marked
slow and CI runs them.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from decimal import Decimal

import pytest

from .incremental import assert_incremental_models_match_full_rebuild

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)

pytestmark = pytest.mark.slow

PUBLISHED_PAYOUTS = "select * exclude (publication_id, published_at) from published.monthly_payouts order by payout_id"
PUBLISHED_LINES = (
    "select * exclude (publication_id, published_at) from published.commission_ledger order by ledger_line_id"
)


def _published_snapshot(platform) -> tuple[list, list]:
    """Every published row, publication metadata included: 'byte-identical' means all of it."""
    return (
        platform.query("select * from published.monthly_payouts order by payout_id"),
        platform.query("select * from published.commission_ledger order by ledger_line_id"),
    )


def test_publish_job_publishes_one_row_per_payee_month_reconciling_to_the_ledger(platform):
    result = platform.run("publish_month_job", JAN, MAR)
    assert result.success

    payee_months = platform.query(
        "select employee_id, payout_month from intermediate.int_payout_months"
        " where payout_month between ? and ? order by 1, 2",
        [JAN, MAR],
    )
    published = platform.query("select employee_id, payout_month from published.monthly_payouts order by 1, 2")
    assert published == payee_months
    assert len(published) == len(set(published)), "one row per payee per month"
    assert {m for _, m in published} == {JAN, FEB, MAR}

    mismatches = platform.query(
        """select p.payout_id, p.net_payout_amount, coalesce(l.total, 0)
           from published.monthly_payouts p
           left join (select employee_id, payout_month,
                             sum(amount) filter (where entry_type <> 'payout') total,
                             sum(amount) balance
                      from published.commission_ledger group by 1, 2) l
             using (employee_id, payout_month)
           where p.net_payout_amount <> coalesce(l.total, 0) or coalesce(l.balance, 0) <> 0"""
    )
    assert mismatches == []
    (total_paid,) = platform.query("select sum(net_payout_amount) from published.monthly_payouts")[0]
    assert total_paid > Decimal("0"), "the demo company earns commission"

    manifests = platform.query(
        "select payout_month, run_id, json_extract_string(manifest, '$.code_version'), "
        "json_extract(manifest, '$.plan_versions_used') from audit.publications order by 1"
    )
    assert [m[0] for m in manifests] == [JAN, FEB, MAR]
    assert all(m[1] == result.run_id and m[2] for m in manifests)
    assert "ae.v1" in manifests[-1][3]

    import duckdb

    with duckdb.connect(str(platform.settings.serving_path), read_only=True) as serving:
        served = serving.execute("select count(*) from published.monthly_payouts").fetchone()[0]
        schemas = {
            r[0] for r in serving.execute("select distinct table_schema from information_schema.tables").fetchall()
        }
    assert served == len(published)
    assert {"published", "marts"} <= schemas


def test_dbt_unit_tests_for_tiers_proration_and_fx_pass(platform):
    """The hand-computed dbt unit tests (tier math, proration, FX) pass against a built warehouse."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    assert platform.run("nightly_preview_job", JAN, JAN).success
    assert platform.query("select count(*) from information_schema.tables where table_schema = 'published'") == [(0,)]
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "test", "--select", "test_type:unit"],
        cwd=Path(__file__).resolve().parents[2] / "dbt_project",
        env={**os.environ, "SPM_WAREHOUSE_PATH": str(platform.warehouse_path)},
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    passed = re.search(r"PASS=(\d+)", completed.stdout)
    assert passed and int(passed.group(1)) >= 12, completed.stdout[-3000:]


def test_rerun_and_rebuild_from_the_same_inputs_give_identical_payouts(platform, tmp_path, dbt_manifest):
    assert platform.run("publish_month_job", JAN, MAR).success
    first = _published_snapshot(platform)
    raw_counts = platform.query("select entity, sum(rows_loaded) from raw._loaded_files group by 1 order by 1")

    # Rerun: nothing new landed, so nothing is loaded twice and the published months are left alone.
    rerun = platform.run("publish_month_job", JAN, MAR)
    assert rerun.success
    assert _published_snapshot(platform) == first
    assert platform.query("select entity, sum(rows_loaded) from raw._loaded_files group by 1 order by 1") == raw_counts
    assert platform.query("select count(*) from audit.publications") == [(3,)]

    # Backfill month by month into a brand-new warehouse: same inputs, same numbers.
    import shutil
    from dataclasses import replace

    import dagster as dg

    from orchestration.definitions import build_definitions

    fresh_settings = replace(
        platform.settings,
        data_dir=tmp_path / "fresh",
        landing_dir=tmp_path / "fresh" / "landing",
        warehouse_path=tmp_path / "fresh" / "warehouse.duckdb",
        serving_path=tmp_path / "fresh" / "serving" / "spm.duckdb",
    )
    shutil.copytree(platform.landing_dir, fresh_settings.landing_dir)
    fresh_defs = build_definitions(fresh_settings)
    from conftest import Platform

    with dg.instance_for_test() as instance:
        fresh = Platform(settings=fresh_settings, defs=fresh_defs, instance=instance)
        for month in (JAN, FEB, MAR):
            assert fresh.run("publish_month_job", month, month).success
        assert fresh.query(PUBLISHED_PAYOUTS) == platform.query(PUBLISHED_PAYOUTS)
        assert fresh.query(PUBLISHED_LINES) == platform.query(PUBLISHED_LINES)


def test_deal_unwon_after_publication_is_reversed_next_month_and_the_closed_month_stays_identical(platform, tmp_path):
    """A deal paid in February and un-won in March: February's published rows never change; March's publication
    carries `adjustment` lines (change_reason credit_removed) that reverse exactly what February paid on it."""
    from ingestion.contracts import contract

    assert platform.run("publish_month_job", JAN, FEB).success
    before = _published_snapshot(platform)
    opportunity_id, feb_total = platform.query(
        """select opportunity_id, sum(amount) from published.commission_ledger
           where payout_month = ? and opportunity_id is not null and entry_type = 'earning'
           group by 1 having sum(amount) > 0 order by 1 limit 1""",
        [FEB],
    )[0]
    feb_lines_total = platform.query(
        "select sum(amount) from published.commission_ledger where payout_month = ? and opportunity_id = ?",
        [FEB, opportunity_id],
    )[0][0]
    assert feb_lines_total >= feb_total > 0

    columns = [c.name for c in contract("crm__opportunities").columns]
    latest = platform.query(
        f"select {', '.join(columns)} from raw.crm__opportunities where opportunity_id = ?"
        " order by last_modified desc limit 1",
        [opportunity_id],
    )[0]
    unwon = dict(zip(columns, latest, strict=True))
    unwon.update(stage="Negotiation", is_closed=False, is_won=False, last_modified="2025-03-31T23:00:00")
    landed = platform.landing_dir / "crm" / "opportunities" / "opportunities_2025-03-unwon.csv"
    with landed.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        writer.writerow([str(unwon[c]).lower() if isinstance(unwon[c], bool) else unwon[c] for c in columns])

    assert platform.run("publish_month_job", MAR, MAR).success
    for month in (JAN, FEB):
        assert platform.query(
            "select * from published.monthly_payouts where payout_month = ? order by payout_id", [month]
        ) == [r for r in before[0] if r[2] == month]
        assert platform.query(
            "select * from published.commission_ledger where payout_month = ? order by ledger_line_id", [month]
        ) == [r for r in before[1] if r[1] == month]

    reversal = platform.query(
        """select entry_type, change_reason, sum(amount) from published.commission_ledger
           where payout_month = ? and opportunity_id = ? group by 1, 2""",
        [MAR, opportunity_id],
    )
    assert reversal == [("adjustment", "credit_removed", -feb_lines_total)], reversal
    # March's run recomputed the engine incrementally (from March): the same rows as a full rebuild
    assert_incremental_models_match_full_rebuild(platform.warehouse_path, tmp_path)
