"""The plan files' worked examples (`examples:` in plans/*.yaml), run through the real pipeline.

Each example is hand-computed from docs/compensation-engine.md and asserted exactly like a library scenario
(checks.py), in a warehouse of its own built over 2025-2026 (conftest.py). Test ids are `<plan file>:<example id>`.
"""

from __future__ import annotations

import pytest

from ingestion.plans import CompPlan

from .checks import check_scenario, dbt_build_problem, reconciliation_problems
from .harness import Warehouse
from .ledger import LedgerReader
from .plan_examples import PLANS_DIR, PlanExampleCase, load_plan_examples, plan_files
from .schema import read_yaml

PLAN_EXAMPLES = load_plan_examples()


@pytest.mark.parametrize("case", PLAN_EXAMPLES, ids=[case.label for case in PLAN_EXAMPLES])
def test_plan_example(case: PlanExampleCase, plan_examples_ledger: LedgerReader) -> None:
    problems = check_scenario(case.scenario, plan_examples_ledger)
    if problems:
        pytest.fail(
            f"{case.label} (plans/{case.plan_file}, {case.scenario.label}): {case.example.title}\n  "
            + "\n  ".join(problems),
            pytrace=False,
        )


@pytest.mark.parametrize("path", plan_files(), ids=[p.name for p in plan_files()])
def test_every_plan_file_has_a_worked_example(path) -> None:
    plan = CompPlan.model_validate(read_yaml(path))
    assert plan.examples, f"plans/{path.name}: add at least one worked example under `examples:`"


def test_plan_files_are_found() -> None:
    assert plan_files(), f"no plan files in {PLANS_DIR}"


def test_plan_examples_ledger_reconciles_to_payouts(plan_examples_ledger: LedgerReader) -> None:
    problems = reconciliation_problems(plan_examples_ledger)
    assert not problems, "\n".join(problems)


def test_plan_examples_dbt_build_succeeded(plan_examples_warehouse: Warehouse) -> None:
    problem = dbt_build_problem(plan_examples_warehouse)
    assert problem is None, problem
