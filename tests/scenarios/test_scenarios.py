"""Every hand-computed library scenario against the ledger and payouts of one real warehouse build.

Each scenario test collects every mismatch before failing (see checks.py), so one run shows the whole diff of a
scenario (expected vs engine, with the hand computation next to it) instead of stopping at the first number.
"""

from __future__ import annotations

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
