"""Fault classes caught while loading sources and plans: refused files, quarantined rows, accepted oddities.

Each case lands its bad input on a copy of the published baseline and runs the real loader (`load_all`, what
the ingestion assets run) or plan loader (`load_plans`). A refused file must leave every raw table as it was;
a quarantined row must be named with its rule and key; and in every case the published and audit tables and
the serving file must be byte-identical afterwards. The baseline is built by the real pipeline: slow.
"""

from __future__ import annotations

import duckdb
import pytest

from ingestion.contracts import CONTRACTS
from ingestion.errors import SourceContractError
from ingestion.loader import load_all
from ingestion.plans import PlanValidationError, load_plans

from .cases import CASES, FaultCase
from .installation import Installation

pytestmark = pytest.mark.slow

LOAD_CASES = [case for case in CASES if case.stage in ("load", "plans")]


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


@pytest.mark.parametrize("case", LOAD_CASES, ids=lambda case: case.name)
def test_bad_input_is_refused_or_quarantined_and_nothing_published_changes(case: FaultCase, installation):
    published_before, raw_before = installation.published(), _raw_row_counts(installation)
    case.inject(installation)

    error, results = _load(case, installation)

    expected = case.expected
    if expected.kind == "raises":
        assert error is not None, f"{case.name}: expected {expected.rule}, but the input was accepted: {results}"
        rule = error.rule if isinstance(error, SourceContractError) else type(error).__name__
        assert rule == expected.rule, f"{case.name}: {error}"
        for fragment in expected.fragments:
            assert fragment in str(error), f"{case.name}: {fragment!r} not in {error}"
        assert _raw_row_counts(installation) == raw_before, f"{case.name}: a refused input must load nothing"
    else:
        assert error is None, f"{case.name}: expected the load to go through, got {error}"
    if expected.kind == "quarantined":
        quarantined = installation.query(
            "select record_key, source_file, source_row from raw._quarantine where entity = ? and rule = ?",
            [expected.entity, expected.rule],
        )
        assert quarantined, f"{case.name}: no {expected.entity} row quarantined for {expected.rule}"
        for fragment in expected.fragments:
            assert any(fragment in key for key, _, _ in quarantined), f"{case.name}: {fragment!r} not in {quarantined}"
        assert all(file.endswith("_2025-03-31-delivery.csv") and row >= 1 for _, file, row in quarantined)
    if expected.rule == "duplicates_skipped":
        result = results[expected.entity]
        assert (result.rows_read, result.rows_duplicate, result.rows_loaded, result.rows_quarantined) == (2, 2, 0, 0)
        table = f"raw.{expected.entity}"
        assert _raw_row_counts(installation)[table] == raw_before[table], "a duplicate delivery adds no raw row"
    if expected.rule == "schema_drift":
        result = results[expected.entity]
        assert result.rows_loaded == 1 and result.rows_quarantined == 0
        assert list(result.unexpected_columns.values()) == [list(expected.fragments)]
        drift = installation.query("select column_name from raw._schema_drift where entity = ?", [expected.entity])
        assert drift == [(column,) for column in expected.fragments]

    assert installation.published().changes_since(published_before) == [], f"{case.name}: published data changed"
