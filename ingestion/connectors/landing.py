"""The connectors' dlt destination: each extracted table becomes an immutable file in the landing folder.

Connectors do not write the warehouse. dlt extracts and normalizes into a load package (parquet job files in
the pipeline's working folder); this destination converts each job file to the entity's contract format
(csv, jsonl or parquet) and lands it as `<landing>/<source>/<entity>/<connector>_<load id>_<file id>.<ext>`.
The existing loader then stays the single validation gate (contracts, quarantine, duplicate versions, drift).

Why these choices:

* **Atomic files.** A file is written under a hidden temporary name (the loader skips dot-files) and renamed
  into place, so the loader never sees half a file.
* **Names sort after earlier extracts.** A dlt load id is the unix time of the extract, ten digits before the
  decimal point for centuries, so later extracts sort later and the loader applies them in order.
* **Retry-safe.** The name is derived from the load id and job file id, and the conversion is deterministic: if
  dlt re-runs a job (a crash after the rename but before dlt recorded the job done), the same file is written
  again with the same bytes, which the loader skips by hash.
* **No dlt bookkeeping lands.** dlt's own tables (`_dlt_pipeline_state`, ...) are not passed to a custom
  destination, and the `_dlt_load_id` / `_dlt_id` columns dlt adds to each row are dropped here.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ingestion.contracts import SourceContract

log = logging.getLogger(__name__)

DLT_PREFIX = "_dlt"


def landed_name(connector: str, load_id: str, file_id: str, contract: SourceContract) -> str:
    return f"{connector}_{load_id}_{file_id}.{contract.file_format}"


def write_landed_file(table: pa.Table, target: Path, contract: SourceContract) -> None:
    """Write `table` in the contract's format to a hidden temp file beside `target`, fsync, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        if contract.file_format == "parquet":
            pq.write_table(table, tmp)
        elif contract.file_format == "csv":
            pa_csv.write_csv(table, tmp)
        else:
            with tmp.open("w", encoding="utf-8", newline="\n") as fh:
                for row in table.to_pylist():
                    fh.write(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _json_value(value: Any) -> str:
    """JSON for what parquet gives back: decimals as strings (DuckDB would read JSON numbers as doubles),
    dates and times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot write a {type(value).__name__} value to JSONL")


def landing_destination(
    connector: str,
    contracts: dict[str, SourceContract],
    landing_dir: Path,
    on_landed: Callable[[str, str, int], None],
) -> Any:
    """A dlt custom destination that lands each job file of `contracts` (keyed by dlt table name).

    `on_landed(entity, relative path, rows)` is called after each rename, so the caller can report what
    landed. Batch size 0 makes dlt hand over whole job files (one call per file), not row batches.
    """
    import dlt
    from dlt.common.storages.load_package import ParsedLoadJobFileName

    def land(items: str, table: dict[str, Any]) -> None:
        name = table["name"]
        contract = contracts.get(name)
        if contract is None:
            raise KeyError(f"connector {connector}: dlt produced table {name!r}, which is not a configured entity")
        job_path = Path(items)
        parsed = ParsedLoadJobFileName.parse(job_path.name)
        load_id = job_path.parent.parent.name  # <package = load id>/started_jobs/<job file>
        data = pq.read_table(job_path)
        data = data.select([c for c in data.column_names if not c.startswith(DLT_PREFIX)])
        target = (
            landing_dir / contract.source / contract.entity / landed_name(connector, load_id, parsed.file_id, contract)
        )
        write_landed_file(data, target, contract)
        relative = target.relative_to(landing_dir).as_posix()
        log.info("connector %s: landed %s (%d rows)", connector, relative, data.num_rows)
        on_landed(contract.name, relative, data.num_rows)

    factory = dlt.destination(
        land,
        batch_size=0,
        loader_file_format="parquet",
        name="spm_landing",
        naming_convention="direct",
        max_table_nesting=0,
        skip_dlt_columns_and_tables=True,
        loader_parallelism_strategy="sequential",
    )
    return factory()
