"""One attainment (issue 15, defect 8): what BI reads in fct_attainment is what the payout is computed on.

The credit counted and the quota of a payee's plan period as known at a month end are defined once, per plan
segment and evaluation (int_segment_attainment, which the tier engine reads); int_period_attainment picks the
segment covering the month end for both fct_monthly_payouts and fct_attainment. Checked row for row on a
generated company (November 2025 to April 2026: monthly plans, then quarterly managers and an annual director in
2026, hires, terminations and a role change inside a month) and on the scenario library, against the engine's
own segments and evaluation credits.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from engines.postgres import dbt_build

from .harness import REPO_ROOT, Warehouse

GENERATED_COMPANY = {"seed": 11, "payees": 60, "months": 6, "start_month": date(2025, 11, 1)}
"""Seeded so that one payee-month (E000019, November 2025) has two segments, the month-end one without credit."""


@pytest.fixture(scope="module")
def generated_company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated company loaded with the project's loaders and built by `dbt build` (about 30 s)."""
    from ingestion.demo.config import CompanyConfig
    from ingestion.demo.generator import generate_company
    from ingestion.loader import load_all
    from ingestion.plans import load_plans

    workdir = tmp_path_factory.mktemp("attainment_company")
    generate_company(CompanyConfig(**GENERATED_COMPANY), workdir / "landing")
    warehouse = workdir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        load_all(conn, workdir / "landing")
        load_plans(conn, REPO_ROOT / "plans")
    built = dbt_build(workdir, {"SPM_WAREHOUSE_PATH": str(warehouse), "SPM_DBT_TARGET": "duckdb"})
    assert built.returncode == 0, built.stdout[-4000:]
    shutil.rmtree(workdir / "landing")
    return warehouse


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


PAYOUT_VS_MART = """
    select p.employee_id, p.payout_month, a.employee_id as mart_employee_id,
           p.quota_period, a.quota_period, p.period_start, a.period_start, p.quota_amount, a.period_quota_amount,
           p.period_credited_amount, a.period_credited_amount, p.period_attainment, a.period_attainment
    from (select * from marts.fct_monthly_payouts where quota_period is not null) as p
    full outer join marts.fct_attainment as a
        on p.employee_id = a.employee_id and p.payout_month = a.attainment_month
    where a.employee_id is null or p.employee_id is null
        or p.quota_period is distinct from a.quota_period
        or p.period_start is distinct from a.period_start
        or p.quota_amount is distinct from a.period_quota_amount
        or p.period_credited_amount is distinct from a.period_credited_amount
        or p.period_attainment is distinct from a.period_attainment
    order by 1, 2
"""
"""Payout rows with a plan period and attainment rows that are not the same row (the query returns none)."""

MONTH_END_SEGMENT = """
    -- independently of int_period_attainment: the segment covering the month end (or the last day on a plan in
    -- the month), its quota, and the sum of the credits it counts at this month's evaluation
    with month_end_segments as (
        select segments.employee_id, months.month_start, segments.segment_id, segments.quota_period,
               segments.period_start, segments.segment_start, segments.quota_amount
        from intermediate.int_plan_segments as segments
        inner join intermediate.int_calendar_months as months
            on segments.segment_start <= months.month_end and segments.segment_end >= months.month_start
        qualify row_number() over (
            partition by segments.employee_id, months.month_start order by segments.segment_end desc
        ) = 1
    ),
    counted as (
        select segment_id, evaluation_month, sum(counted_credit_amount) as credit
        from intermediate.int_commission_evaluation_credits
        group by all
    )
    select s.employee_id, s.month_start, s.quota_period, s.period_start, s.segment_start, s.quota_amount,
           coalesce(counted.credit, 0) as credit
    from month_end_segments as s
    left join counted on s.segment_id = counted.segment_id and s.month_start = counted.evaluation_month
"""


def _engine_month_end_figures(warehouse: Path, with_segment_start: bool) -> dict[tuple, tuple]:
    """(employee, month) -> (quota period, period start, [segment start,] quota, credit, attainment to 6 places)."""
    figures = {}
    for employee_id, month_start, quota_period, period_start, segment_start, quota, credit in _query(
        warehouse, MONTH_END_SEGMENT
    ):
        attainment = (credit / quota).quantize(Decimal("0.000001"), ROUND_HALF_UP) if quota and quota > 0 else None
        start = (segment_start,) if with_segment_start else ()
        figures[employee_id, month_start] = (quota_period, period_start, *start, quota, credit, attainment)
    return figures


def _assert_every_row_is_the_month_end_segment(warehouse: Path, table: str) -> int:
    """Every row of `table` with a plan period shows its month-end segment's period, quota, credit and attainment;
    returns how many rows were compared."""
    is_mart = table == "marts.fct_attainment"
    expected = _engine_month_end_figures(warehouse, with_segment_start=is_mart)
    columns = (
        "employee_id, attainment_month, quota_period, period_start, segment_start, period_quota_amount"
        if is_mart
        else "employee_id, payout_month, quota_period, period_start, quota_amount"
    )
    rows = _query(
        warehouse,
        f"select {columns}, period_credited_amount, period_attainment from {table} where quota_period is not null",
    )
    wrong = [
        (employee_id, month_start, tuple(shown), expected.get((employee_id, month_start)))
        for employee_id, month_start, *shown in rows
        if tuple(shown) != expected.get((employee_id, month_start))
    ]
    assert wrong == [], f"{table}: rows not showing their month-end segment (shown, engine): {wrong[:5]}"
    return len(rows)


def test_generated_company_attainment_mart_is_row_for_row_what_the_payout_used(generated_company: Path):
    assert _query(generated_company, PAYOUT_VS_MART) == []
    by_period = dict(_query(generated_company, "select quota_period, count(*) from marts.fct_attainment group by 1"))
    assert by_period == {"month": 287, "quarter": 24, "year": 4}
    # payout rows without a plan period: ledger lines after termination only
    assert _query(
        generated_company,
        "select count(*), count(*) filter (where is_employed_with_plan) from marts.fct_monthly_payouts "
        "where quota_period is null",
    ) == [(3, 0)]


def test_generated_company_shows_the_month_end_segments_credit_and_quota_in_payout_and_mart(
    generated_company: Path,
):
    """Both marts show the plan segment covering the month end with the credit *that* segment counts. November
    2025 of E000019 has two segments (SE on se_overlay to the 16th, then AE on ae); the month's credit is in the
    first, so the month-end segment's attainment is 0 of 11,573.33 (the payout row used to show the first
    segment's credit against the second segment's quota)."""
    assert _assert_every_row_is_the_month_end_segment(generated_company, "marts.fct_attainment") == 315
    assert _assert_every_row_is_the_month_end_segment(generated_company, "marts.fct_monthly_payouts") == 315
    assert _query(
        generated_company,
        """select segment_start, period_quota_amount, period_credited_amount, period_attainment
           from marts.fct_attainment where employee_id = 'E000019' and attainment_month = date '2025-11-01'""",
    ) == [(date(2025, 11, 17), Decimal("11573.33"), Decimal("0.00"), Decimal("0.000000"))]


def test_pace_spreads_a_running_periods_quota_over_the_whole_period(generated_company: Path):
    """Pace is a separate column: credit against the quota to date. The horizon ends on 30 April 2026, inside
    the director's year and the managers' second quarter; their segments' quotas are for the whole period, and
    so is the pace's denominator (it used to be the days up to the horizon, which made January's pace move each
    month and the open quarter's pace equal to the period attainment).
    - E000001, annual, January: quota 11,740,800.00 x 31 / 365 days = 997,163.84 to date;
      1,188,408.96 / 997,163.84 = 1.191789 (period attainment 1,188,408.96 / 11,740,800.00 = 0.101220).
    - E000002, quarterly, April: quota 1,227,900.00 x 30 / 91 days = 404,802.20 to date;
      178,755.19 / 404,802.20 = 0.441587 (period attainment 0.145578).
    - E000002, March, the quarter's last month: pace = period attainment."""
    rows = _query(
        generated_company,
        """select employee_id, attainment_month, quota_period, period_quota_amount, period_credited_amount,
                  period_attainment, pace_quota_amount, pace_attainment
           from marts.fct_attainment
           where (employee_id, attainment_month) in (
               ('E000001', date '2026-01-01'), ('E000002', date '2026-04-01'), ('E000002', date '2026-03-01'))
           order by 1, 2""",
    )
    assert rows == [
        ("E000001", date(2026, 1, 1), "year", Decimal("11740800.00"), Decimal("1188408.96"), Decimal("0.101220"),
         Decimal("997163.84"), Decimal("1.191789")),
        ("E000002", date(2026, 3, 1), "quarter", Decimal("1306200.00"), Decimal("1046140.22"), Decimal("0.800904"),
         Decimal("1306200.00"), Decimal("0.800904")),
        ("E000002", date(2026, 4, 1), "quarter", Decimal("1227900.00"), Decimal("178755.19"), Decimal("0.145578"),
         Decimal("404802.20"), Decimal("0.441587")),
    ]  # fmt: skip


def test_scenario_library_attainment_and_payouts_show_the_month_end_segment(scenario_warehouse: Warehouse):
    """The library's plan changes, pay-currency changes, hires, terminations and leaves, quarterly and annual
    plans: every attainment and payout row shows the month-end segment's figures as the engine counts them."""
    assert scenario_warehouse.dbt_returncode == 0, scenario_warehouse.dbt_log_tail
    compared = _assert_every_row_is_the_month_end_segment(scenario_warehouse.path, "marts.fct_attainment")
    assert compared == _assert_every_row_is_the_month_end_segment(scenario_warehouse.path, "marts.fct_monthly_payouts")
    assert _query(scenario_warehouse.path, PAYOUT_VS_MART) == []


def test_tier_engine_payout_and_attainment_mart_read_one_counted_total(dbt_manifest: Path):
    """The segment's counted credit at an evaluation is computed once (int_segment_attainment): the tier engine
    takes its threshold, retroactive tier and attainment cap from it, and the payout preview and the attainment
    mart read it through int_period_attainment; neither counts credits again."""
    nodes = json.loads(dbt_manifest.read_text())["nodes"]

    def reads(model: str) -> set[str]:
        return {d.split(".")[-1] for d in nodes[f"model.spm.{model}"]["depends_on"]["nodes"]}

    assert "int_segment_attainment" in reads("int_commission_evaluation_amounts")
    assert {"int_segment_attainment", "int_plan_segments"} <= reads("int_period_attainment")
    assert "int_commission_evaluation_credits" not in reads("int_period_attainment")
    for mart in ("fct_monthly_payouts", "fct_attainment"):
        assert "int_period_attainment" in reads(mart)
        assert not {"int_commission_evaluation_credits", "int_segment_attainment", "int_plan_segments"} & reads(mart)
    assert nodes["model.spm.fct_attainment"]["config"]["contract"]["enforced"] is True
