"""Raw-layer loader: landed files -> typed, append-only `raw.<source>__<entity>` tables in DuckDB.

What it guarantees (SPEC §2, §4):

* **Incremental and idempotent.** Each file is loaded once, identified by its path and SHA-256 in
  `raw._loaded_files`. Rerunning with nothing new changes nothing; a landed file whose content changed raises
  (`LandedFileChangedError`): land a new file instead, so history that payouts were built from never moves.
* **Atomic per call.** Everything one `load_entity` call writes (raw rows, quarantine, drift, file log) is one
  transaction; any error rolls all of it back and is re-raised. Raw rows are only ever appended.
* **File errors are fatal, row errors are quarantined.** A file that cannot be trusted as a whole
  (unreadable, empty, missing contract columns, not UTF-8) raises `SourceContractError` naming source, entity,
  file and rule. A bad row is written to `raw._quarantine` with its rule and record key, and the rest of the
  file loads.
* **Duplicate deliveries are skipped.** A row whose version key is already in the raw table (or earlier in the
  same file) with identical content is counted as a duplicate and not inserted, so overlapping extracts never
  double-count. Same version key with *different* content is quarantined as `conflicting_duplicate`.
* **Traceable.** Every raw row carries `_load_id`, `_loaded_at`, `_source_file` and `_source_row`.
* **Set-based.** Files are read by DuckDB's own readers and validated with one SQL pass (`try_cast` per
  column); no per-row Python, so it scales to millions of rows.
* **Confidential.** Logs and exception messages carry file names, rules and counts, never row contents.

Rule choices (documented here because the spec is silent):

* One quarantine row per (row, rule): a row breaking two rules appears twice, once per rule;
  `rows_quarantined` counts distinct rows.
* Empty or whitespace-only text is null (CSV empty string = null; JSON null or a missing key = null).
* NaN/±inf in a numeric column -> `finite:<col>`; in a `non_negative` column NaN and -inf additionally break
  `non_negative:<col>` (so NaN in an amount yields both rules). A value < 0 -> `non_negative:<col>`.
* A money amount above `MONEY_MAX` (13 integer digits) in absolute value -> `max_value:<col>`: the engine's
  arithmetic holds every amount up to it (docs/compensation-engine.md, "Amount range"). One too large for the
  contract type itself (16 integer digits) is a `type` error.
* A last-change timestamp (`last_modified`, `updated_at`: `Column.not_after_load`) later than the load time
  plus `FUTURE_TOLERANCE` (1 day: clock skew and time zones) -> `not_future:<col>`. Versions are ordered by it,
  so a future stamp would outrank every real correction until that date. Business dates (close dates, HR
  effective dates) may lie in the future and are not checked.
* A value that cannot be cast -> `type:<col>:<contract type>`; for JSONL an object/array where a scalar is
  expected is a type error too. `allowed_values` is checked only on values that cast.
* Decimals are rounded to the contract scale by the cast (e.g. a double-precision FX rate in Parquet), not
  rejected. A timestamp with a UTC offset (`...Z`, `+02:00`) is converted to UTC; without one it is taken
  as-is.
* Duplicates compare *typed* contract columns, so `1.0` vs `1.00` is the same content. A version key
  already in the raw table with different content is also quarantined as `conflicting_duplicate` (the loaded
  version is kept; history is never rewritten). Within a call, files load in path order, so "the later ones"
  are later files or later rows.
* Extra columns are ignored (recorded as drift); they are still included in the quarantine `raw_record`.
* JSONL is read with `read_json_objects` (every key visible, values extracted as text). A key absent from some
  records is null there; absent from all records it is a missing column. DuckDB parses JSON numbers as
  doubles, so a number with more than ~15 significant digits may lose precision: send such amounts as strings.
* `entity` in the metadata tables and `LoadResult` is the contract name `<source>__<entity>`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from ingestion.contracts import CONTRACTS, SourceContract
from ingestion.errors import LandedFileChangedError, SourceContractError
from ingestion.landing import (
    STAGE_ROW,
    STAGE_TABLE,
    LandedFile,
    StagedFile,
    discover_files,
    drop_stage,
    fingerprint,
    stage_file,
    unclaimed_files,
)
from ingestion.sql import ident, literal, sql_type

__all__ = [
    "FUTURE_TOLERANCE",
    "LOADED_FILES_TABLE",
    "QUARANTINE_TABLE",
    "RAW_SCHEMA",
    "REFUSED_FILES_TABLE",
    "SCHEMA_DRIFT_TABLE",
    "LandedFileChangedError",
    "LoadResult",
    "RawSchemaError",
    "SourceContractError",
    "ensure_raw_tables",
    "load_all",
    "load_entity",
]

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
LOADED_FILES_TABLE = "_loaded_files"
QUARANTINE_TABLE = "_quarantine"
REFUSED_FILES_TABLE = "_refused_files"
FUTURE_TOLERANCE = timedelta(days=1)
"""How far a source's last-change timestamp may lie after the load time before the row is quarantined."""
SCHEMA_DRIFT_TABLE = "_schema_drift"

METADATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_load_id", "varchar"),
    ("_loaded_at", "timestamp"),
    ("_source_file", "varchar"),
    ("_source_row", "bigint"),
)

_METADATA_DDL = {
    LOADED_FILES_TABLE: """(
        load_id varchar NOT NULL,
        entity varchar NOT NULL,
        source_file varchar NOT NULL,
        sha256 varchar NOT NULL,
        file_size bigint NOT NULL,
        rows_read bigint NOT NULL,
        rows_loaded bigint NOT NULL,
        rows_duplicate bigint NOT NULL,
        rows_quarantined bigint NOT NULL,
        loaded_at timestamp NOT NULL,
        PRIMARY KEY (entity, source_file)
    )""",
    QUARANTINE_TABLE: """(
        load_id varchar NOT NULL,
        entity varchar NOT NULL,
        source_file varchar NOT NULL,
        source_row bigint NOT NULL,
        record_key varchar,
        rule varchar NOT NULL,
        detail varchar,
        raw_record varchar,
        quarantined_at timestamp NOT NULL
    )""",
    REFUSED_FILES_TABLE: """(
        entity varchar NOT NULL,
        source_file varchar NOT NULL,
        rule varchar NOT NULL,
        detail varchar NOT NULL,
        line bigint,
        refused_at timestamp NOT NULL
    )""",
    SCHEMA_DRIFT_TABLE: """(
        load_id varchar NOT NULL,
        entity varchar NOT NULL,
        source_file varchar NOT NULL,
        column_name varchar NOT NULL,
        detected_at timestamp NOT NULL
    )""",
}

_STAGE = f"temp.main.{ident(STAGE_TABLE)}"
_CHECKED_TABLE = "_spm_checked"
_CLASSIFIED_TABLE = "_spm_classified"
_CHECKED = f"temp.main.{ident(_CHECKED_TABLE)}"
_CLASSIFIED = f"temp.main.{ident(_CLASSIFIED_TABLE)}"

_NON_FINITE = ("nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")
_NEGATIVE_OR_NAN = ("nan", "+nan", "-nan", "-inf", "-infinity")
_INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
_FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE"})
_WHITESPACE = "chr(32) || chr(9) || chr(10) || chr(13)"
_UTC_OFFSET_RE = r"\d:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?)$"


class RawSchemaError(RuntimeError):
    """An existing raw table's column type differs from its contract: needs a deliberate migration."""


@dataclass(frozen=True)
class LoadResult:
    """What one `load_entity` call did. Counts are totals over the files it loaded (skipped files add 0).

    `rows_read == rows_loaded + rows_duplicate + rows_quarantined` always holds.
    """

    entity: str
    files_loaded: list[str]
    files_skipped: list[str]
    rows_read: int
    rows_loaded: int
    rows_duplicate: int
    rows_quarantined: int
    unexpected_columns: dict[str, list[str]]
    load_ids: list[str]
    rows_restated: int = 0
    """Of `rows_loaded`, rows that restate a loaded key with other content (sources restated by delivery)."""
    files_in_flight: list[str] = field(default_factory=list)
    """Hidden files (a writer's temporary name): not landed yet, so not loaded; reported, never silently passed."""


@dataclass(frozen=True)
class _FileStats:
    load_id: str
    rows_read: int
    rows_loaded: int
    rows_restated: int
    rows_duplicate: int
    rows_quarantined: int
    unexpected_columns: list[str]


@dataclass(frozen=True)
class _ColumnPlan:
    """One contract column plus its positional aliases in the validation query.

    Positional aliases (`_r0`, `_t0`, ...) keep the generated SQL independent of what the column is called.
    """

    index: int
    name: str
    type: str
    canonical_type: str
    nullable: bool
    allowed: tuple[str, ...] | None
    non_negative: bool
    max_value: Decimal | None
    positive: bool
    not_after_load: bool

    @property
    def raw(self) -> str:
        return f"_r{self.index}"

    @property
    def typed(self) -> str:
        return f"_t{self.index}"

    @property
    def nested(self) -> str:
        return f"_n{self.index}"

    @property
    def is_float(self) -> bool:
        return self.canonical_type in _FLOAT_TYPES

    @property
    def is_numeric(self) -> bool:
        return self.canonical_type.startswith("DECIMAL") or self.canonical_type in _INTEGER_TYPES or self.is_float


# ----------------------------------------------------------------------------------------------- public API


def ensure_raw_tables(conn: duckdb.DuckDBPyConnection, contracts: Iterable[SourceContract] = CONTRACTS) -> None:
    """Create the `raw` schema, the metadata tables and an empty raw table per contract, if missing.

    Lets dbt sources (and Dagster asset checks) resolve before the first file ever lands. A contract column
    added later is added to the existing raw table (older rows read null); a changed type raises
    `RawSchemaError`, since silently recasting loaded history is not the loader's call. Idempotent.
    """
    conn.begin()
    try:
        _create_tables(conn, list(contracts))
        conn.commit()
    except BaseException:
        _rollback(conn)
        raise


def load_all(
    conn: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    contracts: Iterable[SourceContract] = CONTRACTS,
    *,
    now: datetime | None = None,
    future_tolerance: timedelta = FUTURE_TOLERANCE,
) -> dict[str, LoadResult]:
    """Load every entity, each in its own transaction, in contract order; keyed by `<source>__<entity>`.

    Stops at the first failing entity (entities already loaded stay committed, which is safe because each
    load is atomic and incremental: the rerun after the fix picks up only what is still new).
    """
    contracts = list(contracts)
    ensure_raw_tables(conn, contracts)
    check_landing_folder(conn, landing_dir, contracts, now=now)
    return {
        c.name: load_entity(conn, landing_dir, c, now=now, future_tolerance=future_tolerance) for c in contracts
    }


def check_landing_folder(
    conn: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    contracts: Iterable[SourceContract] = CONTRACTS,
    *,
    now: datetime | None = None,
) -> None:
    """Refuse a file that lies outside every entity's folder (`crm/opportunites/x.csv`, a file in the root).

    Such a file would otherwise never be loaded nor reported, and the deals in it never paid. The first one is
    raised as `unclaimed_file` and each is recorded in `raw._refused_files`.
    """
    contracts = list(contracts)
    found = unclaimed_files(Path(landing_dir), contracts)
    if not found:
        return
    folders = ", ".join(sorted(c.landing_folder for c in contracts))
    errors = []
    for relative in found:
        parts = relative.split("/")
        errors.append(
            SourceContractError(
                source=parts[0] if len(parts) > 1 else "landing",
                entity=parts[1] if len(parts) > 2 else "<none>",
                file=relative,
                rule="unclaimed_file",
                detail=f"not in the folder of any source entity (<source>/<entity>/: {folders})",
            )
        )
    _record_refusals(conn, errors, _as_utc_naive(now))
    first = errors[0]
    if len(errors) > 1:
        first = SourceContractError(
            source=first.source,
            entity=first.entity,
            file=first.file,
            rule=first.rule,
            detail=f"{first.detail} ({len(errors) - 1} more such file(s), see raw.{REFUSED_FILES_TABLE})",
        )
    raise first


def load_entity(
    conn: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    contract: SourceContract,
    *,
    now: datetime | None = None,
    future_tolerance: timedelta = FUTURE_TOLERANCE,
) -> LoadResult:
    """Load all new files of one entity from `landing_dir / contract.landing_glob` into its raw table.

    `now` stamps `_loaded_at` and the metadata tables (UTC; naive values are taken as UTC); pass it for
    reproducible tests. `future_tolerance` is how far a last-change timestamp may lie after `now` (clock skew
    between the source and us) before the row is quarantined as `not_future`. Must not be called inside an open
    transaction on `conn`: the load is its own transaction so that it can roll back as a whole.
    """
    landing_dir = Path(landing_dir)
    loaded_at = _as_utc_naive(now)
    _require_insertion_order(conn)

    try:
        found = discover_files(landing_dir, contract)
        conn.begin()
        try:
            _create_tables(conn, [contract])
            plans = _column_plans(conn, contract)
            new_files, skipped = _partition_files(conn, found.loadable, landing_dir, contract)
            stats = [_load_file(conn, contract, plans, landed, loaded_at, future_tolerance) for landed in new_files]
            conn.commit()
        except BaseException:
            _rollback(conn)
            log.error("%s: load failed and was rolled back; nothing from this run was applied", contract.name)
            raise
    except SourceContractError as error:
        _record_refusals(conn, [error], loaded_at)
        log.error("%s: file refused: %s", contract.name, error)
        raise
    in_flight = [p.relative_to(landing_dir).as_posix() for p in found.in_flight]
    for relative in in_flight:
        log.warning("%s: %s is a hidden (in-flight) file: not loaded until it is renamed", contract.name, relative)

    result = LoadResult(
        entity=contract.name,
        files_loaded=[f.relative_path for f in new_files],
        files_skipped=skipped,
        rows_read=sum(s.rows_read for s in stats),
        rows_loaded=sum(s.rows_loaded for s in stats),
        rows_duplicate=sum(s.rows_duplicate for s in stats),
        rows_quarantined=sum(s.rows_quarantined for s in stats),
        unexpected_columns={
            f.relative_path: s.unexpected_columns for f, s in zip(new_files, stats, strict=True) if s.unexpected_columns
        },
        load_ids=[s.load_id for s in stats],
        rows_restated=sum(s.rows_restated for s in stats),
        files_in_flight=in_flight,
    )
    log.info(
        "%s: %d file(s) loaded, %d skipped as already loaded, %d in flight; "
        "rows read=%d loaded=%d (restated=%d) duplicate=%d quarantined=%d",
        contract.name,
        len(result.files_loaded),
        len(result.files_skipped),
        len(result.files_in_flight),
        result.rows_read,
        result.rows_loaded,
        result.rows_restated,
        result.rows_duplicate,
        result.rows_quarantined,
    )
    for relative in result.files_skipped:
        log.info("%s: %s skipped: already loaded with the same content", contract.name, relative)
    return result


# --------------------------------------------------------------------------------------------------- tables


def _raw_table(contract: SourceContract) -> str:
    return f"{ident(RAW_SCHEMA)}.{ident(contract.name)}"


def _meta_table(name: str) -> str:
    return f"{ident(RAW_SCHEMA)}.{ident(name)}"


def _create_tables(conn: duckdb.DuckDBPyConnection, contracts: Sequence[SourceContract]) -> None:
    """DDL for `ensure_raw_tables`, without transaction handling (callers own the transaction)."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(RAW_SCHEMA)}")
    for name, ddl in _METADATA_DDL.items():
        conn.execute(f"CREATE TABLE IF NOT EXISTS {_meta_table(name)} {ddl}")
    for contract in contracts:
        _ensure_raw_table(conn, contract)


def _ensure_raw_table(conn: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    existing = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
            [RAW_SCHEMA, contract.name],
        ).fetchall()
    )
    if not existing:
        columns = [f"{ident(c.name)} {sql_type(c.type)}" for c in contract.columns]
        columns += [f"{ident(name)} {type_} NOT NULL" for name, type_ in METADATA_COLUMNS]
        conn.execute(f"CREATE TABLE IF NOT EXISTS {_raw_table(contract)} ({', '.join(columns)})")
        return
    for column in contract.columns:
        wanted = _canonical_type(conn, column.type)
        if column.name not in existing:
            log.info("%s: adding contract column %s to the raw table", contract.name, column.name)
            conn.execute(f"ALTER TABLE {_raw_table(contract)} ADD COLUMN {ident(column.name)} {sql_type(column.type)}")
        elif existing[column.name] != wanted:
            raise RawSchemaError(
                f"{contract.raw_table}.{column.name} is {existing[column.name]} but the contract says "
                f"{wanted}; migrate the raw table deliberately"
            )


def _canonical_type(conn: duckdb.DuckDBPyConnection, type_name: str) -> str:
    """DuckDB's own spelling of a type (`decimal(18,2)` -> `DECIMAL(18,2)`), to compare with the catalog."""
    (name,) = conn.execute(f"SELECT typeof(CAST(NULL AS {sql_type(type_name)}))").fetchone()
    return str(name)


def _column_plans(conn: duckdb.DuckDBPyConnection, contract: SourceContract) -> list[_ColumnPlan]:
    """Resolve each contract column's type once and check the contract is self-consistent."""
    plans = [
        _ColumnPlan(
            index=i,
            name=c.name,
            type=c.type,
            canonical_type=_canonical_type(conn, c.type),
            nullable=c.nullable,
            allowed=c.allowed,
            non_negative=c.non_negative,
            max_value=c.max_value,
            positive=c.positive,
            not_after_load=c.not_after_load,
        )
        for i, c in enumerate(contract.columns)
    ]
    names = {p.name for p in plans}
    for key in (*contract.version_key, *contract.record_key):
        if key not in names:
            raise ValueError(f"{contract.name}: key column {key!r} is not a contract column")
    for plan in plans:
        if (plan.non_negative or plan.positive) and not plan.is_numeric:
            raise ValueError(f"{contract.name}.{plan.name}: a sign rule on non-numeric type {plan.type}")
        if plan.max_value is not None and not plan.is_numeric:
            raise ValueError(f"{contract.name}.{plan.name}: max_value on non-numeric type {plan.type}")
    return plans


# ---------------------------------------------------------------------------------------------------- files


def _partition_files(
    conn: duckdb.DuckDBPyConnection, paths: Sequence[Path], landing_dir: Path, contract: SourceContract
) -> tuple[list[LandedFile], list[str]]:
    """Split found files into new ones and already-loaded ones; raise if a loaded file changed.

    Already-loaded files are re-hashed (not trusted by size/mtime) because the immutability check is what
    protects published months from a source being "fixed" in place.
    """
    known = dict(
        conn.execute(
            f"SELECT source_file, sha256 FROM {_meta_table(LOADED_FILES_TABLE)} WHERE entity = ?",
            [contract.name],
        ).fetchall()
    )
    new_files: list[LandedFile] = []
    skipped: list[str] = []
    for path in paths:
        relative = path.relative_to(landing_dir).as_posix()
        prior_sha = known.get(relative)
        check_utf8 = prior_sha is None and contract.file_format != "parquet"
        landed = fingerprint(path, landing_dir, contract, check_utf8=check_utf8)
        if prior_sha is None:
            new_files.append(landed)
        elif prior_sha == landed.sha256:
            skipped.append(relative)
        else:
            raise LandedFileChangedError(
                source=contract.source,
                entity=contract.entity,
                file=relative,
                rule="immutable_file",
                detail=(
                    f"content changed since it was loaded (sha256 {prior_sha[:12]}... is now "
                    f"{landed.sha256[:12]}...); landed files are immutable: land a new file instead"
                ),
            )
    return new_files, skipped


def _load_id(contract: SourceContract, file_sha256: str) -> str:
    """Deterministic: the same file content for the same entity always gets the same load id."""
    return hashlib.sha256(f"{contract.name}:{file_sha256}".encode()).hexdigest()[:16]


def _load_file(
    conn: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    plans: Sequence[_ColumnPlan],
    landed: LandedFile,
    loaded_at: datetime,
    future_tolerance: timedelta,
) -> _FileStats:
    """Stage, validate, classify and insert one file. Runs inside the caller's transaction."""
    load_id = _load_id(contract, landed.sha256)
    rel = landed.relative_path
    staged = stage_file(conn, landed, contract)

    contract_names = [p.name for p in plans]
    missing = [name for name in contract_names if name not in staged.columns]
    if missing:
        raise SourceContractError(
            source=contract.source,
            entity=contract.entity,
            file=rel,
            rule="missing_columns",
            detail=f"missing contract column(s): {', '.join(missing)}",
        )
    unexpected = [name for name in staged.columns if name not in contract_names]

    conn.execute(_checked_sql(contract, plans, staged, loaded_at, future_tolerance))
    conn.execute(_classified_sql(contract, plans))
    conn.execute(_insert_raw_sql(contract, plans), [load_id, loaded_at, rel])
    context = [load_id, contract.name, rel]
    conn.execute(_insert_violations_sql(contract, staged), [*context, loaded_at])
    conn.execute(_insert_conflicts_sql(contract, staged), [*context, loaded_at])
    if unexpected:
        conn.execute(
            f"INSERT INTO {_meta_table(SCHEMA_DRIFT_TABLE)} "
            "(load_id, entity, source_file, column_name, detected_at) "
            "SELECT ?, ?, ?, unnest(CAST(? AS varchar[])), ?",
            [*context, unexpected, loaded_at],
        )

    loaded, restated, duplicate, conflicting = conn.execute(
        f"SELECT count(*) FILTER (WHERE _status IN ('load', 'restatement')), "
        f"count(*) FILTER (WHERE _status = 'restatement'), count(*) FILTER (WHERE _status = 'duplicate'), "
        f"count(*) FILTER (WHERE _status = 'conflict') FROM {_CLASSIFIED}"
    ).fetchone()
    (invalid,) = conn.execute(f"SELECT count(*) FROM {_CHECKED} WHERE len(_violations) > 0").fetchone()
    stats = _FileStats(
        load_id=load_id,
        rows_read=staged.row_count,
        rows_loaded=int(loaded),
        rows_restated=int(restated),
        rows_duplicate=int(duplicate),
        rows_quarantined=int(invalid) + int(conflicting),
        unexpected_columns=unexpected,
    )
    if stats.rows_loaded + stats.rows_duplicate + stats.rows_quarantined != stats.rows_read:
        raise RuntimeError(f"{contract.name}: row accounting mismatch for {rel}; load rolled back")

    conn.execute(
        f"INSERT INTO {_meta_table(LOADED_FILES_TABLE)} (load_id, entity, source_file, sha256, file_size, "
        "rows_read, rows_loaded, rows_duplicate, rows_quarantined, loaded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            *context,
            landed.sha256,
            landed.size,
            stats.rows_read,
            stats.rows_loaded,
            stats.rows_duplicate,
            stats.rows_quarantined,
            loaded_at,
        ],
    )
    drop_stage(conn)
    conn.execute(f"DROP TABLE IF EXISTS {_CHECKED}")
    conn.execute(f"DROP TABLE IF EXISTS {_CLASSIFIED}")

    log.info(
        "%s: loaded %s (load_id %s): read=%d loaded=%d (restated=%d) duplicate=%d quarantined=%d",
        contract.name,
        rel,
        load_id,
        stats.rows_read,
        stats.rows_loaded,
        stats.rows_restated,
        stats.rows_duplicate,
        stats.rows_quarantined,
    )
    if stats.rows_quarantined:
        log.warning(
            "%s: %d row(s) of %s quarantined, see raw.%s",
            contract.name,
            stats.rows_quarantined,
            rel,
            QUARANTINE_TABLE,
        )
    if unexpected:
        log.warning(
            "%s: %s has column(s) not in the contract (ignored): %s",
            contract.name,
            rel,
            ", ".join(unexpected),
        )
    return stats


# --------------------------------------------------------------------------------------------- SQL builders


def _blank_to_null(expr: str) -> str:
    """Empty or whitespace-only text is a null (CSV has no other way to say null)."""
    return f"CASE WHEN trim({expr}, {_WHITESPACE}) = '' THEN NULL ELSE {expr} END"


def _typed_sql(plan: _ColumnPlan) -> str:
    """Cast the raw text to the contract type; NULL means 'not castable' (the `type` rule then fires)."""
    raw = plan.raw
    if plan.canonical_type == "VARCHAR":
        cast = raw
    elif plan.canonical_type == "TIMESTAMP":
        # A plain cast would silently drop a UTC offset ('10:00+02:00' -> 10:00); convert such values to UTC.
        cast = (
            f"CASE WHEN regexp_matches({raw}, {literal(_UTC_OFFSET_RE)}) "
            f"THEN timezone('UTC', TRY_CAST({raw} AS timestamptz)) ELSE TRY_CAST({raw} AS timestamp) END"
        )
    else:
        cast = f"TRY_CAST({raw} AS {sql_type(plan.type)})"
    return f"CASE WHEN {plan.nested} THEN NULL ELSE {cast} END"


def _violation(condition: str, rule: str, detail: str) -> str:
    return f"CASE WHEN {condition} THEN struct_pack(rule := {literal(rule)}, detail := {literal(detail)}) END"


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def _column_checks(plan: _ColumnPlan, latest_allowed: datetime, file_format: str) -> list[str]:
    """Row-rule expressions for one column; each yields a {rule, detail} struct or NULL.

    Details describe the rule, never the value: the value itself is in `raw_record`, which stays in the
    database, whereas details tend to end up in alerts.
    """
    raw, typed, name = plan.raw, plan.typed, plan.name
    checks: list[str] = []
    if not plan.nullable:
        checks.append(_violation(f"{raw} IS NULL", f"not_null:{name}", "required value is null or empty"))
    non_finite = None
    if plan.is_numeric:
        non_finite = f"lower(trim({raw}, {_WHITESPACE})) IN {_in_list(_NON_FINITE)}"
        if plan.is_float:
            non_finite = f"({non_finite} OR NOT isfinite({typed}))"
        non_finite = f"coalesce({non_finite}, false)"
        checks.append(_violation(non_finite, f"finite:{name}", "value is NaN or infinite"))
    not_castable = f"{raw} IS NOT NULL AND {typed} IS NULL"
    if non_finite:
        not_castable += f" AND NOT {non_finite}"
    checks.append(_violation(not_castable, f"type:{name}:{plan.type}", f"value is not a valid {plan.type}"))
    if file_format == "csv" and plan.canonical_type.startswith("DECIMAL"):
        # `1.23457E+11` is how a spreadsheet writes a number it has rounded to 6 digits; DuckDB would read it
        # as 123,457,000,000.00, a silently wrong amount. Machine formats (JSON, Parquet) may use exponents.
        checks.append(
            _violation(
                f"coalesce(regexp_matches({raw}, '[0-9.][eE][+-]?[0-9]'), false)",
                f"plain_number:{name}",
                "written in scientific notation, as a spreadsheet writes a number it has rounded; send it in full",
            )
        )
    if plan.allowed is not None:
        checks.append(
            _violation(
                f"{typed} IS NOT NULL AND CAST({typed} AS varchar) NOT IN {_in_list(plan.allowed)}",
                f"allowed_values:{name}",
                f"value is not one of: {', '.join(plan.allowed)}",
            )
        )
    nan_or_minus_inf = f"coalesce(lower(trim({raw}, {_WHITESPACE})) IN {_in_list(_NEGATIVE_OR_NAN)}, false)"
    if plan.non_negative:
        negative = f"coalesce({typed} < 0, false) OR {nan_or_minus_inf}"
        checks.append(_violation(negative, f"non_negative:{name}", "value must be a number >= 0"))
    if plan.positive:
        not_positive = f"coalesce({typed} <= 0, false) OR {nan_or_minus_inf}"
        checks.append(_violation(not_positive, f"positive:{name}", "value must be a number > 0"))
    if plan.max_value is not None:
        checks.append(
            _violation(
                f"coalesce(abs({typed}) > {plan.max_value}, false)",
                f"max_value:{name}",
                f"absolute value above the contract bound of {plan.max_value}",
            )
        )
    if plan.not_after_load:
        checks.append(
            _violation(
                f"coalesce({typed} > TIMESTAMP {literal(latest_allowed.isoformat(sep=' '))}, false)",
                f"not_future:{name}",
                "timestamp is later than the load time (beyond the clock tolerance)",
            )
        )
    return checks


def _row_rule_checks(contract: SourceContract, plans: Sequence[_ColumnPlan], tolerance: timedelta) -> list[str]:
    """The contract's cross-column rules, over the typed values (see `RowRule`)."""
    values = {p.name: p.typed for p in plans}
    interval = f"INTERVAL '{int(tolerance.total_seconds())} seconds'"
    return [
        _violation(f"coalesce({rule.violation.format(tolerance=interval, **values)}, false)", rule.rule, rule.detail)
        for rule in contract.row_rules
    ]


def _checked_sql(
    contract: SourceContract,
    plans: Sequence[_ColumnPlan],
    staged: StagedFile,
    loaded_at: datetime,
    tolerance: timedelta,
) -> str:
    """One pass over the staged file: raw text -> typed columns plus the list of broken rules per row."""
    raw_columns = ",\n        ".join(
        f"{_blank_to_null(staged.value_sql(p.name))} AS {p.raw}, {staged.nested_sql(p.name)} AS {p.nested}"
        for p in plans
    )
    typed_columns = ",\n        ".join(f"{_typed_sql(p)} AS {p.typed}" for p in plans)
    checks = [check for p in plans for check in _column_checks(p, loaded_at + tolerance, staged.file_format)]
    checks += _row_rule_checks(contract, plans, tolerance)
    violations = f"list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL)" if checks else "[]"
    return f"""
CREATE OR REPLACE TEMP TABLE {ident(_CHECKED_TABLE)} AS
WITH v AS (
    SELECT s.{ident(STAGE_ROW)} AS _source_row, {_record_key_sql(contract, staged)} AS _record_key,
        {raw_columns}
    FROM {_STAGE} AS s
), t AS (
    SELECT *,
        {typed_columns}
    FROM v
)
SELECT _source_row, _record_key, {", ".join(p.typed for p in plans)},
    CAST({violations} AS STRUCT(rule varchar, detail varchar)[]) AS _violations
FROM t
"""


def _classified_sql(contract: SourceContract, plans: Sequence[_ColumnPlan]) -> str:
    """Decide, for each valid row, load / restatement / duplicate / conflict against the raw table and the file.

    The first row of a version key in the file is compared with the version already in the raw table, if any
    (earlier files of the same call are already there, inside the transaction): the *first* loaded version for
    a source with change stamps (a second content under a loaded version key is a conflict), the *latest* one
    for a source restated by delivery (other content is a restatement and loads; so does the same content when a
    delivery of the key was quarantined after that version loaded: the latest delivery is the source's current
    statement, and loading it is what resolves the quarantined one). Every later row of that key
    in the same file is compared with the file's first row: same content is a duplicate, other content a
    conflict. Only raw rows whose version key occurs in the file are read, so cost follows the file, not the
    history.
    """
    by_name = {p.name: p for p in plans}
    vk = [by_name[name] for name in contract.version_key]
    vk_cols = ", ".join(p.typed for p in vk)
    content = f"row({', '.join(p.typed for p in plans)})"
    existing_content = f"row({', '.join('e.' + ident(p.name) for p in plans)})"
    existing_keys = ", ".join(f"e.{ident(p.name)} AS {p.typed}" for p in vk)
    semi_on = " AND ".join(f"e.{ident(p.name)} IS NOT DISTINCT FROM v.{p.typed}" for p in vk)
    join_on = " AND ".join(f"x.{p.typed} IS NOT DISTINCT FROM r.{p.typed}" for p in vk)
    partition_e = ", ".join(f"e.{ident(p.name)}" for p in vk)
    restated = contract.restated_by_delivery
    direction = "DESC" if restated else "ASC"
    # the file's first row of a key against the loaded version: restatement (restated sources) or conflict
    differs_from_loaded = "'restatement'" if restated else "'conflict'"
    # a later row of the key in the file: against the file's first row (which, for a restated source, is the
    # newest version once loaded), or against the loaded version, which stays the reference for stamped sources
    later_row_reference = (
        "r._first_content" if restated else "CASE WHEN x._load_id IS NULL THEN r._first_content ELSE x._content END"
    )
    return f"""
CREATE OR REPLACE TEMP TABLE {ident(_CLASSIFIED_TABLE)} AS
WITH valid AS (
    SELECT _source_row, _record_key, {vk_cols}, {content} AS _content
    FROM {_CHECKED}
    WHERE len(_violations) = 0
), quarantined_since AS (
    SELECT record_key, max(quarantined_at) AS last_quarantined_at
    FROM {_meta_table(QUARANTINE_TABLE)}
    WHERE entity = {literal(contract.name)} AND {str(restated).lower()}
        AND record_key IN (SELECT _record_key FROM valid)
    GROUP BY record_key
), ranked AS (
    SELECT *,
        row_number() OVER w AS _rank,
        first_value(_content) OVER w AS _first_content,
        first_value(_source_row) OVER w AS _first_row
    FROM valid
    WINDOW w AS (PARTITION BY {vk_cols} ORDER BY _source_row)
), existing AS (
    SELECT {existing_keys}, {existing_content} AS _content, e._load_id, e._loaded_at, e._source_file,
        e._source_row
    FROM {_raw_table(contract)} AS e
    WHERE EXISTS (SELECT 1 FROM valid AS v WHERE {semi_on})
    QUALIFY row_number() OVER (
        PARTITION BY {partition_e}
        ORDER BY e._loaded_at {direction}, e._source_file {direction}, e._source_row {direction}
    ) = 1
), decided AS (
    SELECT r._source_row, r._first_row, r._rank, x._load_id AS _existing_load_id,
        x._source_file AS _existing_file, x._source_row AS _existing_row,
        CASE
            WHEN r._rank = 1 AND x._load_id IS NULL THEN 'load'
            WHEN r._rank = 1 AND x._content IS NOT DISTINCT FROM r._content
                AND NOT coalesce(q.last_quarantined_at > x._loaded_at, false) THEN 'duplicate'
            WHEN r._rank = 1 THEN {differs_from_loaded}
            WHEN {later_row_reference} IS NOT DISTINCT FROM r._content THEN 'duplicate'
            ELSE 'conflict'
        END AS _status
    FROM ranked AS r
    LEFT JOIN existing AS x ON {join_on}
    LEFT JOIN quarantined_since AS q ON q.record_key = r._record_key
)
SELECT _source_row, _status,
    CASE
        WHEN _status <> 'conflict' THEN NULL
        WHEN _existing_load_id IS NOT NULL AND (_rank = 1 OR NOT {str(restated).lower()})
            THEN 'version key already loaded from ' || _existing_file || ' row ' || _existing_row
                || ' (load_id ' || _existing_load_id || ') with different content'
        ELSE 'version key first delivered at row ' || _first_row || ' of this file with different content'
    END AS _conflict_detail
FROM decided
"""


def _insert_raw_sql(contract: SourceContract, plans: Sequence[_ColumnPlan]) -> str:
    columns = ", ".join([*(ident(p.name) for p in plans), *(ident(n) for n, _ in METADATA_COLUMNS)])
    typed = ", ".join(f"k.{p.typed}" for p in plans)
    return f"""
INSERT INTO {_raw_table(contract)} ({columns})
SELECT {typed}, ?, ?, ?, k._source_row
FROM {_CHECKED} AS k
JOIN {_CLASSIFIED} AS c ON c._source_row = k._source_row
WHERE c._status IN ('load', 'restatement')
ORDER BY k._source_row
"""


def _record_key_sql(contract: SourceContract, staged: StagedFile) -> str:
    """`opportunity_id=O1` (several key columns joined with ', '), from the raw text as delivered."""
    parts = [
        f"{literal(name + '=')} || coalesce({_blank_to_null(staged.value_sql(name))}, '<null>')"
        for name in contract.record_key
    ]
    return f"concat_ws(', ', {', '.join(parts)})"


_QUARANTINE_COLUMNS = "load_id, entity, source_file, source_row, record_key, rule, detail, raw_record, quarantined_at"


def _insert_violations_sql(contract: SourceContract, staged: StagedFile) -> str:
    return f"""
INSERT INTO {_meta_table(QUARANTINE_TABLE)} ({_QUARANTINE_COLUMNS})
SELECT ?, ?, ?, q._source_row, {_record_key_sql(contract, staged)}, q.v.rule, q.v.detail,
    {staged.raw_record_sql()}, ?
FROM (
    SELECT _source_row, unnest(_violations) AS v FROM {_CHECKED} WHERE len(_violations) > 0
) AS q
JOIN {_STAGE} AS s ON s.{ident(STAGE_ROW)} = q._source_row
ORDER BY q._source_row, q.v.rule
"""


def _insert_conflicts_sql(contract: SourceContract, staged: StagedFile) -> str:
    rule = f"conflicting_duplicate:{','.join(contract.version_key)}"
    return f"""
INSERT INTO {_meta_table(QUARANTINE_TABLE)} ({_QUARANTINE_COLUMNS})
SELECT ?, ?, ?, c._source_row, {_record_key_sql(contract, staged)}, {literal(rule)}, c._conflict_detail,
    {staged.raw_record_sql()}, ?
FROM {_CLASSIFIED} AS c
JOIN {_STAGE} AS s ON s.{ident(STAGE_ROW)} = c._source_row
WHERE c._status = 'conflict'
ORDER BY c._source_row
"""


# -------------------------------------------------------------------------------------------------- helpers


def _record_refusals(
    conn: duckdb.DuckDBPyConnection, errors: Sequence[SourceContractError], refused_at: datetime
) -> None:
    """Log each refused file in `raw._refused_files`, in its own transaction (the load itself was rolled back),
    so the refusal stays visible beside the loaded-files log. Best effort: failing to record must not hide the
    refusal itself, which the caller raises."""
    try:
        conn.begin()
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(RAW_SCHEMA)}")
        table = _meta_table(REFUSED_FILES_TABLE)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} {_METADATA_DDL[REFUSED_FILES_TABLE]}")
        conn.executemany(
            f"INSERT INTO {table} (entity, source_file, rule, detail, line, refused_at) VALUES (?, ?, ?, ?, ?, ?)",
            [[f"{e.source}__{e.entity}", e.file, e.rule, e.detail, e.line, refused_at] for e in errors],
        )
        conn.commit()
    except duckdb.Error:
        _rollback(conn)
        log.exception("could not record the refused file(s) in raw.%s", REFUSED_FILES_TABLE)


def _as_utc_naive(now: datetime | None) -> datetime:
    """Raw tables use naive `timestamp` columns holding UTC."""
    if now is None:
        return datetime.now(UTC).replace(tzinfo=None)
    if now.tzinfo is not None:
        return now.astimezone(UTC).replace(tzinfo=None)
    return now


def _require_insertion_order(conn: duckdb.DuckDBPyConnection) -> None:
    """`_source_row` comes from `row_number() OVER ()`: file order only with this (default) setting."""
    (preserve,) = conn.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    if not preserve:
        raise RuntimeError("the loader needs preserve_insertion_order = true to record source row numbers")


def _rollback(conn: duckdb.DuckDBPyConnection) -> None:
    """Roll back without masking the original error if the rollback itself fails."""
    try:
        conn.rollback()
    except duckdb.Error:
        log.exception("rollback failed")
