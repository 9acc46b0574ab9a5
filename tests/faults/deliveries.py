"""Writing a new delivery into an installation's landing folder, in the shape of its source contract.

Fault cases build their bad input from realistic rows (a contract-shaped record with a few fields changed), so
each case breaks exactly one rule. Files are named to sort after the company's own extracts, as a later
delivery would.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

from ingestion.contracts import CONTRACTS_BY_NAME

LATE_SUFFIX = "2025-03-31-delivery"


def delivery_path(landing_dir: Path, entity: str, *, suffix: str = LATE_SUFFIX, ext: str | None = None) -> Path:
    contract = CONTRACTS_BY_NAME[entity]
    folder = landing_dir / contract.source / contract.entity
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{contract.entity}_{suffix}.{ext or contract.file_format}"


def contract_columns(entity: str) -> list[str]:
    return [column.name for column in CONTRACTS_BY_NAME[entity].columns]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(["" if value is None else value for value in row] for row in rows)
    return path


def land_records(landing_dir: Path, entity: str, records: Sequence[Mapping[str, object]], **path_args) -> Path:
    """Land `records` (contract column -> value; missing columns are empty) as one new file of `entity`."""
    contract = CONTRACTS_BY_NAME[entity]
    path = delivery_path(landing_dir, entity, **path_args)
    columns = contract_columns(entity)
    if contract.file_format == "csv":
        return write_csv(path, columns, [[record.get(c) for c in columns] for record in records])
    if contract.file_format == "jsonl":
        path.write_text(
            "".join(json.dumps({c: record.get(c) for c in columns}, default=str) + "\n" for record in records)
        )
        return path
    with duckdb.connect() as conn:
        values = ", ".join(
            "(" + ", ".join("null" if record.get(c) is None else f"'{record[c]}'" for c in columns) + ")"
            for record in records
        )
        types = ", ".join(
            f"cast({c} as {column.type}) as {c}" for c, column in zip(columns, contract.columns, strict=True)
        )
        conn.execute(
            f"copy (select {types} from (values {values}) as t({', '.join(columns)})) to '{path}' (format parquet)"
        )
    return path


def latest_raw_record(warehouse_path: Path, entity: str, where: str, params: Sequence[object] = ()) -> dict:
    """The latest loaded version of one record, as contract column -> value (to derive a faulty version)."""
    contract = CONTRACTS_BY_NAME[entity]
    columns = contract_columns(entity)
    order = ", ".join(f"{c} desc" for c in contract.version_key)
    with duckdb.connect(str(warehouse_path), read_only=True) as conn:
        row = conn.execute(
            f"select {', '.join(columns)} from {contract.raw_table} where {where} order by {order} limit 1",
            list(params),
        ).fetchone()
    assert row is not None, f"no {entity} record where {where} {params}"
    return dict(zip(columns, row, strict=True))
