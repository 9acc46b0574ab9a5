"""The month-close state machine of `publish_months` on a tiny hand-made warehouse (no pipeline, seconds).

The checks themselves are covered elsewhere (test_gates, test_payout_expectations, the pipeline tests); here
they are replaced by a switch so each test pins one rule of the close: open months publish, closed months are
left alone, months close in order, a reopen is recorded and creates a new version, a blocked publication writes
nothing, and a column the marts gain is added to the published tables.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.publication import publish
from orchestration.publication.gates import CheckResult, GateContext

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


@pytest.fixture
def check_switch() -> dict[str, bool]:
    """Whether the (replaced) blocking checks pass."""
    return {"pass": True}


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch, check_switch) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    conn.execute("create schema marts; create schema raw")
    conn.execute(
        """create table marts.fct_monthly_payouts as
           select 'E1:' || cast(m as varchar) as payout_id, 'E1' as employee_id, cast(m as date) as payout_month,
                  'USD' as currency_code, 100.00::decimal(18, 2) as net_payout_amount, 'ae' as plan_id,
                  1 as plan_version
           from (values (date '2025-01-01'), (date '2025-02-01'), (date '2025-03-01')) t(m)"""
    )
    conn.execute(
        """create table marts.fct_commission_ledger as
           select payout_id || ':earning' as ledger_line_id, employee_id, payout_month, 'earning' as entry_type,
                  net_payout_amount as amount, cast(null as date) as adjusted_month
           from marts.fct_monthly_payouts"""
    )
    conn.execute(
        """create table raw._loaded_files as
           select 'crm__opportunities' as entity, 'f.csv' as source_file, 'abc' as sha256, 'L1' as load_id,
                  10 as rows_loaded"""
    )
    conn.execute(
        "create table raw.plans__plan_versions as select 'ae' as plan_id, 1 as plan_version, 'h' as content_hash"
    )

    def fake_checks(conn, ctx, *, run_great_expectations=True):
        passed = check_switch["pass"]
        if passed:
            return [CheckResult("switch", "the test's switch is on", True)]
        return [CheckResult("switch", "the test's switch is on", False, 1, ("E1:2025-02-01",), ("payout 4321.09",))]

    monkeypatch.setattr(publish, "evaluate_all_checks", fake_checks)
    yield conn
    conn.close()


def _publish(conn, *months: date, run_id: str = "run") -> publish.PublicationResult:
    return publish.publish_months(conn, GateContext(months=months), run_id=run_id)


def _set_mart_net(conn, month: date, amount: str) -> None:
    conn.execute("update marts.fct_monthly_payouts set net_payout_amount = ? where payout_month = ?", [amount, month])
    conn.execute("update marts.fct_commission_ledger set amount = ? where payout_month = ?", [amount, month])


def _published_net(conn, month: date):
    return conn.execute(
        "select net_payout_amount from published.monthly_payouts where payout_month = ?", [month]
    ).fetchall()


def test_open_months_publish_and_closed_months_are_left_alone_even_when_recomputed_differently(warehouse):
    assert _publish(warehouse, JAN, FEB).months_published == (JAN, FEB)
    _set_mart_net(warehouse, JAN, "999.00")
    result = _publish(warehouse, JAN, FEB, MAR, run_id="rerun")
    assert result.months_published == (MAR,)
    assert result.months_closed == (JAN, FEB)
    assert _published_net(warehouse, JAN) == [(100,)]
    assert warehouse.execute("select count(*) from audit.publications where payout_month = ?", [JAN]).fetchone() == (1,)


def test_every_requested_month_closed_is_a_no_op_that_evaluates_no_check(warehouse, check_switch):
    _publish(warehouse, JAN)
    check_switch["pass"] = False  # would block, but nothing is to be published
    result = _publish(warehouse, JAN, run_id="again")
    assert result.months_published == () and result.months_closed == (JAN,)


def test_months_close_in_order(warehouse):
    _publish(warehouse, JAN)
    with pytest.raises(publish.MonthCloseError, match="2025-02 are not closed"):
        _publish(warehouse, MAR)
    assert _published_net(warehouse, MAR) == []
    assert _publish(warehouse, FEB, MAR).months_published == (FEB, MAR)


def test_a_blocked_publication_writes_nothing_but_records_its_checks(warehouse, check_switch):
    _publish(warehouse, JAN)
    before = warehouse.execute("select * from published.monthly_payouts order by all").fetchall()
    check_switch["pass"] = False
    with pytest.raises(publish.PublicationBlocked, match="switch"):
        _publish(warehouse, FEB, run_id="blocked")
    assert warehouse.execute("select * from published.monthly_payouts order by all").fetchall() == before
    assert warehouse.execute("select count(*) from audit.publications").fetchone() == (1,)
    assert warehouse.execute("select passed from audit.check_results where run_id = 'blocked'").fetchall() == [(False,)]


def test_a_blocked_publication_names_keys_and_keeps_the_amounts_in_the_audit_table(warehouse, check_switch):
    """Failure messages reach the event log and the alert webhook; the amounts stay beside the pay data."""
    check_switch["pass"] = False
    with pytest.raises(publish.PublicationBlocked) as blocked:
        _publish(warehouse, FEB, run_id="blocked")
    assert "E1:2025-02-01" in str(blocked.value) and "4321.09" not in str(blocked.value)
    (details,) = warehouse.execute("select sample_details from audit.check_results where run_id = 'blocked'").fetchone()
    assert json.loads(details) == {"E1:2025-02-01": "payout 4321.09"}


def test_reopen_needs_a_closed_month_and_a_reason(warehouse):
    with pytest.raises(publish.MonthCloseError, match="never published"):
        publish.reopen_month(warehouse, JAN, reopened_by="ana", reason="fix")
    _publish(warehouse, JAN)
    with pytest.raises(publish.MonthCloseError, match="needs a reason"):
        publish.reopen_month(warehouse, JAN, reopened_by="ana", reason="  ")
    publish.reopen_month(warehouse, JAN, reopened_by="ana", reason="fix")
    with pytest.raises(publish.MonthCloseError, match="already reopened"):
        publish.reopen_month(warehouse, JAN, reopened_by="ana", reason="again")


def test_republishing_a_reopened_month_creates_version_2_and_keeps_version_1(warehouse):
    _publish(warehouse, JAN, run_id="first")
    version_1 = warehouse.execute("select * from published.commission_ledger").fetchall()
    reopen_id = publish.reopen_month(warehouse, JAN, reopened_by="ana", reason="quota corrected")
    assert publish.month_states(warehouse)[JAN].status == "reopened"
    _set_mart_net(warehouse, JAN, "150.00")
    assert _publish(warehouse, JAN, run_id="second").months_published == (JAN,)

    state = publish.month_states(warehouse)[JAN]
    assert (state.status, state.publication_version) == ("closed", 2)
    assert _published_net(warehouse, JAN) == [(150,)]
    superseded = warehouse.execute(
        "select * exclude (superseded_at, superseded_by_publication_id) from published.superseded_commission_ledger"
    ).fetchall()
    assert superseded == version_1
    manifest = warehouse.execute(
        "select json_extract_string(manifest, '$.reopen_id') from audit.publications where publication_id = ?",
        [state.publication_id],
    ).fetchone()[0]
    assert manifest == reopen_id


def test_a_column_the_marts_gain_is_added_to_the_published_tables(warehouse):
    _publish(warehouse, JAN)
    warehouse.execute("alter table marts.fct_monthly_payouts add column bonus_amount decimal(18, 2) default 7")
    _publish(warehouse, FEB)
    rows = warehouse.execute("select payout_month, bonus_amount from published.monthly_payouts order by 1").fetchall()
    assert rows == [(JAN, None), (FEB, 7)]
