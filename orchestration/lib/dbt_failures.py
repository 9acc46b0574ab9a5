"""What a failed dbt build failed on, named by key: the failing tests with sample offending keys, the failing
models with the database's message.

dbt reports a failed test as a name and a count ("unique_fct_monthly_payouts_payout_id: 2 failures"), which tells
an operator which rule broke but not which row. The test's compiled SQL, kept in run_results.json, selects exactly
the offending rows, so running it again read-only with a small limit names them. Only key-like columns are
printed (columns named `*_id`, `*_key`, `*_code`, `*_date`, `*_month`, `*_type`, and the fields dbt's generic
tests return the offending value in), never amounts, even when the tested column is one: failure messages reach
logs and alerts (docs/pay-data-protection.md). No Dagster import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

SAMPLE_ROWS = 3
_KEY_FIELDS = ("unique_field", "from_field", "value_field")
"""Columns dbt's generic tests (unique, relationships, accepted_values) return the offending value in."""
_KEY_SUFFIXES = ("_id", "_key", "_code", "_date", "_month", "_type")


@dataclass(frozen=True)
class DbtFailure:
    unique_id: str
    status: str
    description: str


def dbt_failures(target_path: Path, warehouse_path: Path | None, manifest_path: Path | None = None) -> list[DbtFailure]:
    """The failed and errored nodes of the dbt invocation whose target folder is `target_path`."""
    results_file = Path(target_path) / "run_results.json"
    if not results_file.exists():
        return []
    results = json.loads(results_file.read_text())["results"]
    nodes = _manifest_nodes(manifest_path)
    failures = []
    for result in results:
        if result.get("status") not in ("fail", "error"):
            continue
        node = nodes.get(result["unique_id"], {})
        failures.append(DbtFailure(result["unique_id"], result["status"], _describe(result, node, warehouse_path)))
    return failures


def _manifest_nodes(manifest_path: Path | None) -> dict[str, Any]:
    if manifest_path is None or not Path(manifest_path).exists():
        return {}
    return json.loads(Path(manifest_path).read_text()).get("nodes", {})


def _describe(result: dict[str, Any], node: dict[str, Any], warehouse_path: Path | None) -> str:
    unique_id = result["unique_id"]
    resource_type, _, rest = unique_id.partition(".")
    name = rest.split(".", 1)[1].rsplit(".", 1)[0] if resource_type == "test" else rest.split(".", 1)[-1]
    message = " ".join(str(result.get("message") or "").split())
    if resource_type != "test" or result["status"] == "error":
        return f"dbt {resource_type} {name} {'failed' if resource_type != 'test' else 'could not run'}: {message}"
    model = _tested_model(node)
    count = result.get("failures")
    text = f"dbt test {name} failed" + (f" on {model}" if model else "") + (f" ({count} row(s))" if count else "")
    keys = _sample_keys(result.get("compiled_code"), warehouse_path)
    return text + (f"; sample keys: {', '.join(keys)}" if keys else "")


def _tested_model(node: dict[str, Any]) -> str | None:
    attached = node.get("attached_node") or next(iter(node.get("depends_on", {}).get("nodes", [])), None)
    return attached.split(".")[-1] if attached else None


def _sample_keys(compiled_sql: str | None, warehouse_path: Path | None) -> list[str]:
    """Key columns of the first offending rows, `col=value` joined by '/', or [] if they cannot be read."""
    if not compiled_sql or warehouse_path is None or not Path(warehouse_path).exists():
        return []
    try:
        with duckdb.connect(str(warehouse_path), read_only=True) as conn:
            relation = conn.sql(compiled_sql)
            names = relation.columns
            wanted = [n for n in names if n in _KEY_FIELDS or n.endswith(_KEY_SUFFIXES)]
            if not wanted:
                return []
            rows = relation.select(*[f'"{n}"' for n in wanted]).limit(SAMPLE_ROWS).fetchall()
    except duckdb.Error:
        return []  # the key is a courtesy: the failure itself is reported either way
    return ["/".join(f"{n}={'<null>' if v is None else v}" for n, v in zip(wanted, row, strict=True)) for row in rows]
