"""Session fixtures: the scenario library and ONE warehouse built from all of it (dbt build costs ~30-60 s)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .harness import LIBRARY_DIR, Warehouse, build_warehouse
from .ledger import LEDGER, LedgerReader, LedgerSchema
from .schema import Scenario, load_library


@pytest.fixture(scope="session")
def scenario_library() -> list[Scenario]:
    return load_library(LIBRARY_DIR)


@pytest.fixture(scope="session")
def scenario_warehouse(scenario_library: list[Scenario], tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """Built once per session. SPM_SCENARIO_WORKDIR keeps the landing files, plans and warehouse for a look."""
    keep = os.environ.get("SPM_SCENARIO_WORKDIR")
    if keep:
        workdir = Path(keep)
        if workdir.exists() and any(workdir.iterdir()):
            raise pytest.UsageError(f"SPM_SCENARIO_WORKDIR={workdir} must be empty or absent")
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = tmp_path_factory.mktemp("scenarios")
    return build_warehouse(scenario_library, workdir)


@pytest.fixture(scope="session")
def ledger_schema() -> LedgerSchema:
    return LEDGER


@pytest.fixture(scope="session")
def ledger(scenario_warehouse: Warehouse, ledger_schema: LedgerSchema) -> LedgerReader:
    if not scenario_warehouse.has_table(ledger_schema.ledger_table):
        pytest.fail(
            f"{ledger_schema.ledger_table} was not built (dbt exit code {scenario_warehouse.dbt_returncode}); "
            f"dbt output:\n{scenario_warehouse.dbt_log_tail}"
        )
    return LedgerReader(scenario_warehouse, ledger_schema)
