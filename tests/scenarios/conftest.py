"""Session fixtures: the scenario library and ONE warehouse built from all of it (dbt build costs ~30-60 s), and
the plan files' worked examples in a second warehouse of their own (horizon 2025-2026)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .harness import LIBRARY_DIR, Warehouse, build_warehouse
from .ledger import LEDGER, LedgerReader, LedgerSchema
from .plan_examples import PlanExampleCase, load_plan_examples
from .schema import PLAN_EXAMPLES_HORIZON, Scenario, load_library


def _workdir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A fresh folder for one warehouse build. SPM_SCENARIO_WORKDIR keeps the landing files, plans and warehouse
    for a look, one subfolder per build (`library/`, `plan_examples/`)."""
    keep = os.environ.get("SPM_SCENARIO_WORKDIR")
    if not keep:
        return tmp_path_factory.mktemp(name)
    workdir = Path(keep) / name
    if workdir.exists() and any(workdir.iterdir()):
        raise pytest.UsageError(f"SPM_SCENARIO_WORKDIR={keep}: {workdir} must be empty or absent")
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def _ledger(warehouse: Warehouse, schema: LedgerSchema) -> LedgerReader:
    if not warehouse.has_table(schema.ledger_table):
        pytest.fail(
            f"{schema.ledger_table} was not built (dbt exit code {warehouse.dbt_returncode}); "
            f"dbt output:\n{warehouse.dbt_log_tail}"
        )
    return LedgerReader(warehouse, schema)


@pytest.fixture(scope="session")
def scenario_library() -> list[Scenario]:
    return load_library(LIBRARY_DIR)


@pytest.fixture(scope="session")
def scenario_warehouse(scenario_library: list[Scenario], tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """Built once per session."""
    return build_warehouse(scenario_library, _workdir(tmp_path_factory, "library"))


@pytest.fixture(scope="session")
def ledger_schema() -> LedgerSchema:
    return LEDGER


@pytest.fixture(scope="session")
def ledger(scenario_warehouse: Warehouse, ledger_schema: LedgerSchema) -> LedgerReader:
    return _ledger(scenario_warehouse, ledger_schema)


@pytest.fixture(scope="session")
def plan_examples() -> list[PlanExampleCase]:
    return load_plan_examples()


@pytest.fixture(scope="session")
def plan_examples_warehouse(
    plan_examples: list[PlanExampleCase], tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    """Every plan file's examples, built once per session over the 2025-2026 horizon (v1 plans end in 2025, the
    v2/v3 plans start in 2026); separate from the library so the library keeps its 2025 calendar."""
    return build_warehouse(
        [case.scenario for case in plan_examples],
        _workdir(tmp_path_factory, "plan_examples"),
        horizon=PLAN_EXAMPLES_HORIZON,
    )


@pytest.fixture(scope="session")
def plan_examples_ledger(plan_examples_warehouse: Warehouse, ledger_schema: LedgerSchema) -> LedgerReader:
    return _ledger(plan_examples_warehouse, ledger_schema)
