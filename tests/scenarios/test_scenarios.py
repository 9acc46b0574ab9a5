"""Every hand-computed library scenario against the ledger and payouts of one real warehouse build.

Each scenario test collects every mismatch before failing (see checks.py), so one run shows the whole diff of a
scenario (expected vs engine, with the hand computation next to it) instead of stopping at the first number.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from .checks import check_scenario, dbt_build_problem, reconciliation_problems
from .harness import LIBRARY_DIR, REPO_ROOT, Warehouse, render_scenarios_doc
from .ledger import LedgerReader
from .plan_examples import load_plan_examples
from .schema import Scenario, load_library

SCENARIOS = load_library(LIBRARY_DIR)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(scenario: Scenario, ledger: LedgerReader) -> None:
    problems = check_scenario(scenario, ledger)
    if problems:
        pytest.fail(
            f"{scenario.id} ({scenario.source_file}): {scenario.title}\n  " + "\n  ".join(problems),
            pytrace=False,
        )


def test_ledger_reconciles_to_payouts_for_every_payee_month(ledger: LedgerReader) -> None:
    """Company-wide: per payee-month, the non-payout lines sum to the net payout and the payout line is minus
    it; no ledger line lives outside a payout row."""
    problems = reconciliation_problems(ledger)
    assert not problems, "\n".join(problems)


def test_dbt_build_succeeded(scenario_warehouse: Warehouse) -> None:
    """dbt's own tests on the scenario company: a failure here names the model or test, which often explains a
    scenario failure better than the numbers do."""
    problem = dbt_build_problem(scenario_warehouse)
    assert problem is None, problem


def test_scenarios_doc_is_current() -> None:
    """docs/scenarios.md is generated from the library and the plan files' examples; regenerate with
    `python -m tests.scenarios.render_doc`."""
    doc = REPO_ROOT / "docs" / "scenarios.md"
    assert doc.read_text(encoding="utf-8") == render_scenarios_doc(SCENARIOS, load_plan_examples()), (
        "docs/scenarios.md is stale: run `python -m tests.scenarios.render_doc`"
    )


def test_every_credit_of_the_library_reaches_the_ledger_or_a_plan_rule_explains_it(
    scenario_warehouse: Warehouse,
) -> None:
    """No credit vanishes between int_opportunity_credits and the ledger (issue 15): across every scenario each
    current credit is booked or carries the plan rule that explains why it pays nothing. A blocking outcome here
    is a credit the publication gate `won_credits_reach_the_ledger` would stop a close for."""
    blocking = scenario_warehouse.query(
        "select payee_credit_id, employee_id, close_date, outcome from intermediate.int_credit_outcomes"
        " where is_blocking order by all"
    )
    assert blocking == []
    outcomes = dict(
        scenario_warehouse.query("select outcome, count(*) from intermediate.int_credit_outcomes group by 1")
    )
    # the library's reps without a plan (manager roll-up scenarios) and its capped / clawed-back credits
    assert outcomes == {"in_ledger": 109, "no_plan_on_close_date": 8, "above_attainment_cap": 1, "clawed_back": 1}


def test_the_attainment_mart_shows_the_attainment_every_payout_is_computed_on(scenario_warehouse: Warehouse) -> None:
    """One definition of credit and quota per plan period (issue 15): for every payee-month of the library, BI's
    fct_attainment and the payout's period figures are the same row (they both read int_period_attainment)."""
    mismatches = scenario_warehouse.query(
        """select p.employee_id, p.payout_month, p.quota_period, p.period_attainment, a.period_attainment
           from marts.fct_monthly_payouts as p
           full outer join marts.fct_attainment as a
             on a.employee_id = p.employee_id and a.attainment_month = p.payout_month
           where (p.quota_period is not null or a.employee_id is not null)
             and (a.employee_id is null or p.employee_id is null
                or a.period_attainment is distinct from p.period_attainment
                or a.period_credited_amount is distinct from p.period_credited_amount
                or a.period_quota_amount is distinct from p.quota_amount
                or a.quota_period is distinct from p.quota_period or a.period_start is distinct from p.period_start)
           order by all"""
    )
    assert mismatches == []
    periods = dict(scenario_warehouse.query("select quota_period, count(*) from marts.fct_attainment group by 1"))
    assert set(periods) == {"month", "quarter", "year"}, periods


def test_a_quarterly_reps_attainment_is_the_quarter_to_date_and_pace_is_against_the_days_elapsed(
    scenario_warehouse: Warehouse,
) -> None:
    """s18: quarter quota 30,000; by the end of August 22,000 is credited. Period attainment 22,000 / 30,000 =
    0.733333 (what the payout tiers on); pace quota 30,000 x 62 / 92 days = 20,217.39, pace 22,000 / 20,217.39 =
    1.088172 (ahead of pace though below the quota)."""
    row = scenario_warehouse.query(
        """select quota_period, period_start, period_end, period_quota_amount, period_credited_amount,
                  period_attainment, pace_quota_amount, pace_attainment
           from marts.fct_attainment where employee_id = 's18_rep' and attainment_month = date '2025-08-01'"""
    )
    assert row == [
        (
            "quarter",
            date(2025, 7, 1),
            date(2025, 9, 30),
            Decimal("30000.00"),
            Decimal("22000.00"),
            Decimal("0.733333"),
            Decimal("20217.39"),
            Decimal("1.088172"),
        )
    ]
