"""Blocking gates on a hand-built warehouse: each names its offenders, and passes when there are none."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from orchestration.publication.gates import GATES, GateContext, evaluate_gates

GATE = {g.name: g for g in GATES}
NOV, DEC, JAN = date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1)


@pytest.fixture
def warehouse() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute("create schema marts; create schema intermediate; create schema staging")
    conn.execute(
        """create table marts.fct_monthly_payouts as select * from (values
             ('E1', date '2024-11-01', 'USD', 1000.00::decimal(18,2), 5000.00::decimal(18,2)),
             ('E2', date '2024-11-01', 'EUR', 1000.00::decimal(18,2), 5000.00::decimal(18,2)),
             ('E1', date '2024-12-01', 'USD', 1100.00::decimal(18,2), 5000.00::decimal(18,2)),
             ('E2', date '2024-12-01', 'EUR', 1100.00::decimal(18,2), 5000.00::decimal(18,2)),
             ('E1', date '2025-01-01', 'USD', 4000.00::decimal(18,2), 5000.00::decimal(18,2)),
             ('E2', date '2025-01-01', 'EUR',  900.00::decimal(18,2), 5000.00::decimal(18,2))
           ) t(employee_id, payout_month, currency_code, net_payout_amount, cap_amount)"""
    )
    conn.execute(
        "alter table marts.fct_monthly_payouts add column draw_amount decimal(18,2) default 0;"
        "alter table marts.fct_monthly_payouts add column draw_recovery_amount decimal(18,2) default 0;"
        "alter table marts.fct_monthly_payouts add column prior_period_adjustment_amount decimal(18,2) default 0"
    )
    conn.execute(
        """create table intermediate.int_fx_rates as
           select d::date as rate_date, c as currency_code, case c when 'USD' then 1.0 else 1.1 end as rate_to_reporting
           from range(date '2024-11-01', date '2025-02-01', interval 1 day) r(d), (values ('USD'), ('EUR')) v(c)"""
    )
    return conn


def _only(conn, name: str, ctx: GateContext):
    return evaluate_gates(conn, ctx, [GATE[name]])[0]


def test_payout_change_within_bound_passes_steady_months(warehouse):
    result = _only(warehouse, "payout_change_within_bound", GateContext(months=(DEC,), max_payout_change_ratio=0.5))
    assert result.passed


def test_payout_change_above_bound_blocks_and_names_the_month(warehouse):
    # Jan total = 4000 + 900*1.1 = 4990 vs Dec 1100 + 1210 = 2310: +116 %
    result = _only(warehouse, "payout_change_within_bound", GateContext(months=(DEC, JAN), max_payout_change_ratio=0.5))
    assert not result.passed
    assert result.failing_count == 1
    assert result.sample_keys == ("2025-01-01: total payout changed by 116.0 % against the month before",)
    # the totals are for the audit table only: failure messages, logs and alerts carry keys
    assert result.sample_details == ("total 4990.00 USD vs 2310.00 the month before",)
    assert "4990" not in result.describe() and "2310" not in result.describe()


def test_payout_change_gate_totals_payouts_of_a_hundred_million_and_more_without_overflow(warehouse):
    # int_fx_rates keeps the contract's decimal(18, 8); a payout of 100,000,000.00 times it overflowed DuckDB's
    # 18-digit product. Jan 400,000,000 + 900 x 1.1 = 400,000,990 vs Dec 110,000,000 + 1,210 = 110,001,210: +263.6 %
    warehouse.execute(
        "create or replace table intermediate.int_fx_rates as select rate_date, currency_code,"
        " cast(rate_to_reporting as decimal(18, 8)) as rate_to_reporting from intermediate.int_fx_rates"
    )
    warehouse.execute(
        "update marts.fct_monthly_payouts set net_payout_amount = net_payout_amount * 100000 where employee_id = 'E1'"
    )
    result = _only(warehouse, "payout_change_within_bound", GateContext(months=(DEC, JAN), max_payout_change_ratio=0.5))
    assert result.sample_keys == ("2025-01-01: total payout changed by 263.6 % against the month before",)
    assert result.sample_details == ("total 400000990.00 USD vs 110001210.00 the month before",)


def test_acknowledged_payout_change_passes(warehouse):
    ctx = GateContext(months=(JAN,), max_payout_change_ratio=0.5, acknowledged_change_months=frozenset({JAN}))
    assert _only(warehouse, "payout_change_within_bound", ctx).passed


def test_payout_above_cap_is_reported_with_its_key(warehouse):
    result = _only(warehouse, "payouts_within_plan_caps", GateContext(months=(JAN,)))
    assert result.passed
    warehouse.execute("update marts.fct_monthly_payouts set net_payout_amount = 5000.01 where employee_id = 'E2'")
    result = _only(warehouse, "payouts_within_plan_caps", GateContext(months=(JAN,)))
    assert not result.passed
    assert result.sample_keys == ("E2:2025-01-01 commission above the plan cap",)
    assert result.sample_details == ("commission 5000.01 > cap 5000.00",)
    assert "5000" not in result.describe()


def test_a_draw_above_the_cap_is_not_a_cap_breach(warehouse):
    """The cap limits commission; a guaranteed draw topping a low month up is paid on top of it."""
    warehouse.execute(
        "update marts.fct_monthly_payouts set net_payout_amount = 6000.00, draw_amount = 1500.00"
        " where employee_id = 'E2'"
    )
    assert _only(warehouse, "payouts_within_plan_caps", GateContext(months=(JAN,))).passed


def test_a_prior_period_adjustment_above_the_cap_is_not_a_cap_breach(warehouse):
    """A correction of a closed month was capped in its own month's recomputation; it is paid on top."""
    warehouse.execute(
        "update marts.fct_monthly_payouts set net_payout_amount = 7000.00, prior_period_adjustment_amount = 2500.00"
        " where employee_id = 'E2'"
    )
    assert _only(warehouse, "payouts_within_plan_caps", GateContext(months=(JAN,))).passed


def test_ledger_lines_in_another_currency_than_the_payout_block_naming_the_line(warehouse):
    warehouse.execute(
        """create table marts.fct_commission_ledger as
           select employee_id || ':earning' as ledger_line_id, employee_id, payout_month, currency_code
           from marts.fct_monthly_payouts"""
    )
    assert _only(warehouse, "one_currency_per_payee_month", GateContext(months=(JAN,))).passed
    warehouse.execute("insert into marts.fct_commission_ledger values ('E2:ppa', 'E2', date '2025-01-01', 'GBP')")
    result = _only(warehouse, "one_currency_per_payee_month", GateContext(months=(JAN,)))
    assert not result.passed
    assert result.sample_keys == ("E2:2025-01-01 line E2:ppa in GBP, payout in EUR",)


# ----------------------------------------------------------------------- references between sources


def _raw_layer_with_a_deal() -> duckdb.DuckDBPyConnection:
    """Empty raw tables for every contract, plus user U1, account A1, deal O1 and split S1 of O1."""
    from ingestion.loader import ensure_raw_tables

    conn = duckdb.connect()
    ensure_raw_tables(conn)
    meta = "'L1', timestamp '2025-01-31 00:00:00', 'f.csv', 1"
    conn.execute(f"insert into raw.crm__users values ('U1', 'Ann', null, true, timestamp '2025-01-01', {meta})")
    conn.execute(
        f"insert into raw.crm__accounts values ('A1', 'Acme', 'SMB', 'NA', 'U1', date '2024-01-01', "
        f"timestamp '2025-01-01', {meta})"
    )
    conn.execute(
        f"insert into raw.crm__opportunities values ('O1', 'A1', 'U1', 'Deal', 'new', 'Closed Won', 100.00, 'USD', "
        f"date '2025-01-02', date '2025-01-10', true, true, 12, timestamp '2025-01-10', {meta})"
    )
    conn.execute(
        f"insert into raw.crm__opportunity_splits values ('S1', 'O1', 'U1', 'revenue', 100, false, "
        f"timestamp '2025-01-10', {meta})"
    )
    return conn


def _split(conn, split_id: str, opportunity_id: str, *, stamp: str, deleted: bool = False) -> None:
    conn.execute(
        f"insert into raw.crm__opportunity_splits values ('{split_id}', '{opportunity_id}', 'U1', 'revenue', 100, "
        f"{str(deleted).lower()}, timestamp '{stamp}', 'L2', timestamp '2025-02-01', 'g.csv', 1)"
    )


def test_every_declared_reference_resolving_passes():
    result = _only(_raw_layer_with_a_deal(), "source_references_resolve", GateContext(months=(JAN,)))
    assert result.passed, result


def test_a_split_of_an_opportunity_never_delivered_blocks_naming_the_split_and_the_opportunity():
    conn = _raw_layer_with_a_deal()
    _split(conn, "S2", "O-GHOST", stamp="2025-01-20")

    result = _only(conn, "source_references_resolve", GateContext(months=(JAN,)))

    assert (result.passed, result.failing_count) == (False, 1)
    assert result.sample_keys == (
        "crm__opportunity_splits split_id=S2: opportunity_id=O-GHOST not found in crm__opportunities",
    )


def test_an_orphan_reference_is_resolved_by_a_corrected_or_deleted_version():
    conn = _raw_layer_with_a_deal()
    _split(conn, "S2", "O-GHOST", stamp="2025-01-20")
    _split(conn, "S3", "O-GHOST", stamp="2025-01-20")
    _split(conn, "S2", "O1", stamp="2025-01-21")  # corrected
    _split(conn, "S3", "O-GHOST", stamp="2025-01-21", deleted=True)  # removed at the source

    assert _only(conn, "source_references_resolve", GateContext(months=(JAN,))).passed


def test_every_contract_reference_names_an_existing_column():
    from ingestion.contracts import CONTRACTS, CONTRACTS_BY_NAME

    references = [(c.name, col.name, col.references) for c in CONTRACTS for col in c.columns if col.references]
    assert len(references) == 15
    for _, _, target in references:
        entity, column = target.split(".")
        assert column in {col.name for col in CONTRACTS_BY_NAME[entity].columns}, target


def test_an_orphan_blocks_only_the_months_it_can_reach():
    """Sales ops send February's quota for a hire HR has not sent yet (HR sends it in February): January is not
    blocked by it, February is. An open deal whose owner is unknown blocks nothing until it is won."""
    conn = _raw_layer_with_a_deal()
    meta = "'L3', timestamp '2025-01-31 00:00:00', 'q.csv', 1"
    conn.execute(
        f"insert into raw.salesops__quotas values ('E-NEW', 'month', date '2025-02-01', 40000.00, 'USD', "
        f"timestamp '2025-01-20', {meta})"
    )
    conn.execute(
        f"insert into raw.crm__opportunities values ('O2', 'A1', 'U-NEW', 'Deal', 'new', 'Proposal', 100.00, "
        f"'USD', date '2025-01-02', date '2025-05-10', false, false, 12, timestamp '2025-01-10', {meta})"
    )

    january = _only(conn, "source_references_resolve", GateContext(months=(JAN,)))
    february = _only(conn, "source_references_resolve", GateContext(months=(date(2025, 2, 1),)))

    assert january.passed, january
    assert february.sample_keys == (
        "salesops__quotas employee_id=E-NEW, period_type=month, period_start=2025-02-01: employee_id=E-NEW not found"
        " in hr__workers",
    )
