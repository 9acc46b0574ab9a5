"""Fault classes caught while loading sources and plans: refused files, quarantined rows, accepted oddities.

Each case lands its bad input on a copy of the published baseline and runs the real loader (`load_all`, what
the ingestion assets run) or plan loader (`load_plans`). A refused input must leave every raw table as it was;
a quarantined row must be listed with its rule and key; every case pins the exact message a person sees
(observe.py); and in every case the published and audit tables and the serving file must be byte-identical
afterwards. The baseline is built by the real pipeline: slow.
"""

from __future__ import annotations

import logging

import duckdb
import pytest

from ingestion.contracts import CONTRACTS
from ingestion.errors import SourceContractError
from ingestion.loader import load_all
from ingestion.plans import PlanValidationError, load_plans
from orchestration.publication.gates import GATES, GateContext, evaluate_gates

from .cases import CASES, FaultCase
from .installation import MAR, Installation
from .observe import LOADER_LOGGER, loader_log_lines, quarantine_messages

pytestmark = pytest.mark.slow

LOAD_CASES = [case for case in CASES if case.stage in ("load", "plans")]
QUARANTINE_GATE = next(gate for gate in GATES if gate.name == "no_unresolved_quarantined_source_rows")


def _raw_row_counts(installation: Installation) -> dict[str, int]:
    tables = [c.raw_table for c in CONTRACTS] + ["raw._loaded_files", "raw._quarantine", "raw.plans__plan_versions"]
    return {table: installation.query(f"select count(*) from {table}")[0][0] for table in tables}


def _load(case: FaultCase, installation: Installation) -> tuple[Exception | None, dict | None]:
    """Run the stage that must catch the fault; return what it raised, or what it loaded."""
    with duckdb.connect(str(installation.warehouse_path)) as conn:
        try:
            if case.stage == "plans":
                return None, {"plans": load_plans(conn, installation.settings.plans_dir)}
            return None, load_all(conn, installation.landing_dir)
        except (SourceContractError, PlanValidationError) as error:
            return error, None


def _quarantine_gate_passes(installation: Installation) -> bool:
    with duckdb.connect(str(installation.warehouse_path), read_only=True) as conn:
        return evaluate_gates(conn, GateContext(months=(MAR,)), [QUARANTINE_GATE])[0].passed


def _observed_message(case: FaultCase, installation: Installation, error, log_lines: list[str]) -> str | None:
    expected = case.expected
    if expected.kind == "raises":
        return str(error) if error is not None else None
    if expected.kind == "quarantined":
        messages = quarantine_messages(installation, expected.entity, expected.rule)
        assert len(messages) == 1, f"{case.name}: exactly one quarantined row expected, got {messages}"
        return messages[0]
    # accepted: the loader's line about the case's delivery
    return next((line for line in log_lines if line == expected.message), log_lines)


@pytest.mark.parametrize("case", LOAD_CASES, ids=lambda case: case.name)
def test_bad_input_is_refused_or_quarantined_and_nothing_published_changes(
    case: FaultCase, installation, caplog: pytest.LogCaptureFixture
):
    published_before, raw_before = installation.published(), _raw_row_counts(installation)
    case.inject(installation)
    quarantine_gate_before = _quarantine_gate_passes(installation)

    with caplog.at_level(logging.INFO, logger=LOADER_LOGGER):
        error, results = _load(case, installation)

    expected = case.expected
    if expected.kind == "raises":
        assert error is not None, f"{case.name}: expected {expected.rule}, but the input was accepted: {results}"
        rule = error.rule if isinstance(error, SourceContractError) else type(error).__name__
        assert rule == expected.rule, f"{case.name}: {error}"
        assert _raw_row_counts(installation) == raw_before, f"{case.name}: a refused input must load nothing"
    else:
        assert error is None, f"{case.name}: expected the load to go through, got {error}"
    observed = _observed_message(case, installation, error, loader_log_lines(caplog.records))
    assert observed == expected.message, f"{case.name}: observed message {observed!r}"

    if expected.kind == "quarantined":
        (entity_file,) = {
            file
            for (file,) in installation.query("select source_file from raw._quarantine where rule = ?", [expected.rule])
        }
        assert entity_file.startswith(expected.entity.replace("__", "/") + "/")
    if expected.rule == "duplicates_skipped":
        result = results[expected.entity]
        assert (result.rows_read, result.rows_duplicate, result.rows_loaded, result.rows_quarantined) == (2, 2, 0, 0)
        table = f"raw.{expected.entity}"
        assert _raw_row_counts(installation)[table] == raw_before[table], "a duplicate delivery adds no raw row"
    if expected.rule == "schema_drift":
        result = results[expected.entity]
        assert result.rows_loaded == 1 and result.rows_quarantined == 0
        assert list(result.unexpected_columns.values()) == [["forecast_category"]]
        drift = installation.query("select column_name from raw._schema_drift where entity = ?", [expected.entity])
        assert drift == [("forecast_category",)]
    if expected.rule == "duplicates_only":
        result = results[expected.entity]
        assert result.rows_read > 0 and result.rows_read == result.rows_duplicate, result
    if expected.rule == "loaded":
        assert (results[expected.entity].rows_loaded, results[expected.entity].rows_quarantined) == (1, 0)
    if expected.rule == "in_flight":
        result = results[expected.entity]
        assert (result.files_loaded, len(result.files_in_flight), result.rows_read) == ([], 1, 0)
    if expected.rule == "quarantine_resolved":
        assert not quarantine_gate_before, "the zero rate must block publication until corrected"
        assert _quarantine_gate_passes(installation), "the re-sent rate must resolve the quarantined one"
        assert results[expected.entity].rows_restated == 1
    if expected.rule in ("unexpected_file", "unclaimed_file"):
        refused = installation.query("select source_file, rule from raw._refused_files")
        assert refused == [(error.file, expected.rule)], refused

    assert installation.published().changes_since(published_before) == [], f"{case.name}: published data changed"
