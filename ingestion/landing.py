"""Landing-folder side of the loader: find files, fingerprint them, and stage them into DuckDB as text.

Staging reads a file with DuckDB's own reader into a temporary table whose columns are all VARCHAR, plus
`STAGE_ROW`, the 1-based data row number taken with `row_number() OVER ()` (which DuckDB documents as
preserving scan order; `rowid` is no use here, inside a transaction it is a transaction-local id). Keeping
every value as text means a bad value never fails the whole read: the loader types and validates each value
itself, set-based, and quarantines what does not fit. Only problems with the file as a whole raise
`SourceContractError` here.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.contracts import SourceContract
from ingestion.errors import SourceContractError
from ingestion.sql import ident, literal

STAGE_TABLE = "_spm_stage"
"""Temporary table holding the file being loaded (connection-local, dropped after each file)."""
STAGE_ROW = "__spm_source_row"
"""Column of `STAGE_TABLE` holding the 1-based data row number in the file."""
_ROW_NUMBER = f"row_number() OVER () AS {ident(STAGE_ROW)}"

_CHUNK = 1 << 20
_GLOB_CHARS = frozenset("*?[]{}")


@dataclass(frozen=True)
class LandedFile:
    """A file found in the landing folder, identified by its path and content hash."""

    path: Path
    relative_path: str
    """Path relative to the landing dir, POSIX separators: what `_source_file` and `_loaded_files` store."""
    sha256: str
    size: int


@dataclass(frozen=True)
class StagedFile:
    """A file staged as text in `STAGE_TABLE`, plus how to get at each delivered column in SQL."""

    file_format: str
    columns: tuple[str, ...]
    """Column names as delivered (header order for CSV/Parquet, sorted keys for JSONL)."""
    row_count: int

    def value_sql(self, column: str, alias: str = "s") -> str:
        """SQL expression for the raw text of `column` in a row of the stage table aliased `alias`."""
        if self.file_format == "jsonl":
            return f"json_extract_string({alias}.json, {literal(_json_pointer(column))})"
        return f"{alias}.{ident(column)}"

    def nested_sql(self, column: str, alias: str = "s") -> str:
        """SQL predicate: the value is a JSON object/array, which no contract column type accepts."""
        if self.file_format == "jsonl":
            pointer = literal(_json_pointer(column))
            return f"coalesce(json_type({alias}.json, {pointer}) IN ('OBJECT', 'ARRAY'), false)"
        return "false"

    def raw_record_sql(self, alias: str = "s") -> str:
        """SQL expression giving the whole delivered row as JSON text, for the quarantine table."""
        if self.file_format == "jsonl":
            return f"CAST({alias}.json AS varchar)"
        pairs = ", ".join(f"{literal(c)}, {alias}.{ident(c)}" for c in self.columns)
        return f"CAST(json_object({pairs}) AS varchar)" if pairs else "'{}'"


@dataclass(frozen=True)
class EntityFiles:
    """What an entity's landing folder holds: files to load, and hidden files still being written."""

    loadable: list[Path]
    """Files directly in the folder whose extension is the contract's format (any case), in path order."""
    in_flight: list[Path]
    """Hidden files (or files in hidden folders): writers land to a hidden temporary name and rename it when
    complete, so such a file may be half-written. Reported by the loader, loaded once renamed."""


def discover_files(landing_dir: Path, contract: SourceContract) -> EntityFiles:
    """Every file in the entity's folder ends as loadable, in flight, or refused here.

    A file the loader would otherwise pass over without a trace is refused with `unexpected_file`, naming it:
    an extract in another format (`.xlsx` in a CSV folder) or in a subfolder is data the contract cannot read,
    and a payout computed without it could be wrong. The extension's case does not matter (`.CSV` loads).
    """
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing directory does not exist: {landing_dir}")
    folder = landing_dir / contract.landing_folder
    if not folder.is_dir():
        return EntityFiles([], [])
    loadable: list[Path] = []
    in_flight: list[Path] = []
    unexpected: list[tuple[Path, str]] = []
    for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(landing_dir).as_posix()):
        if not path.is_file():
            continue
        inside = path.relative_to(folder)
        if any(part.startswith(".") for part in inside.parts):
            in_flight.append(path)
        elif len(inside.parts) > 1:
            reason = f"in a subfolder: files of {contract.name} go directly in {contract.landing_folder}/"
            unexpected.append((path, reason))
        elif path.suffix.lower() != f".{contract.file_format}":
            unexpected.append(
                (
                    path,
                    f"not a {contract.file_format} file (extension '{path.suffix or '<none>'}'): {contract.name} is "
                    f"landed as *.{contract.file_format}; convert it, or move it out of the landing folder",
                )
            )
        else:
            loadable.append(path)
    if unexpected:
        path, reason = unexpected[0]
        others = f" ({len(unexpected) - 1} more unexpected file(s) in the folder)" if len(unexpected) > 1 else ""
        raise _error(contract, path.relative_to(landing_dir).as_posix(), "unexpected_file", reason + others)
    return EntityFiles(loadable, in_flight)


def unclaimed_files(landing_dir: Path, contracts: Iterable[SourceContract]) -> list[str]:
    """Files in the landing folder outside every entity's folder (a mistyped folder, a file left in the root),
    as relative paths. Hidden files and folders are writers' temporary names and are not listed."""
    if not landing_dir.is_dir():
        return []
    claimed = {landing_dir / c.landing_folder for c in contracts}
    found = []
    for path in landing_dir.rglob("*"):
        relative = path.relative_to(landing_dir)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        if not any(folder in path.parents for folder in claimed):
            found.append(relative.as_posix())
    return sorted(found)


def fingerprint(path: Path, landing_dir: Path, contract: SourceContract, *, check_utf8: bool) -> LandedFile:
    """Hash a file (streamed) and, for text formats, check it is valid UTF-8 in the same pass.

    Doing the encoding check here (instead of relying on the reader) gives a precise, content-free error with
    the line number, and costs nothing extra because the bytes are being read for the hash anyway.
    """
    relative = path.relative_to(landing_dir).as_posix()
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict") if check_utf8 else None
    size = 0
    newlines = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            if decoder is not None:
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad_in_chunk = max(exc.start - pending, 0)
                    line = newlines + chunk.count(b"\n", 0, bad_in_chunk) + 1
                    raise _error(
                        contract,
                        relative,
                        "encoding",
                        f"not valid UTF-8 (byte offset {size + bad_in_chunk})",
                        line,
                    ) from None
                newlines += chunk.count(b"\n")
            size += len(chunk)
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _error(
                contract, relative, "encoding", "not valid UTF-8 (truncated sequence at end of file)"
            ) from None
    return LandedFile(path=path, relative_path=relative, sha256=digest.hexdigest(), size=size)


def stage_file(conn: duckdb.DuckDBPyConnection, landed: LandedFile, contract: SourceContract) -> StagedFile:
    """Read `landed` into `STAGE_TABLE` as text; raise `SourceContractError` if the file is unusable."""
    if landed.size == 0:
        raise _error(contract, landed.relative_path, "empty_file", "file is empty (zero bytes)")
    if _GLOB_CHARS & set(str(landed.path)):
        # DuckDB readers expand glob patterns; such a name could silently read a different file.
        raise _error(contract, landed.relative_path, "file_name", "path contains glob characters (*?[]{})")
    stagers = {"csv": _stage_csv, "jsonl": _stage_jsonl, "parquet": _stage_parquet}
    return stagers[contract.file_format](conn, landed, contract)


def drop_stage(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(f"DROP TABLE IF EXISTS temp.main.{ident(STAGE_TABLE)}")


def _stage_csv(conn: duckdb.DuckDBPyConnection, landed: LandedFile, contract: SourceContract) -> StagedFile:
    """Strict RFC 4180 read, every column as text, with no sniffing.

    The header is parsed here and handed to DuckDB with `auto_detect=false`: the sniffer would otherwise try
    to guess a dialect (and fail with a line-less "could not detect dialect" on a ragged small file, or skip
    rows it thinks are a preamble). Strict mode makes ragged rows and bad quoting fatal, with a line number.
    """
    header = _csv_header(landed, contract)
    columns = {name: "VARCHAR" for name in header}
    try:
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {ident(STAGE_TABLE)} AS SELECT {_ROW_NUMBER}, * FROM read_csv(?, "
            "header = true, auto_detect = false, columns = ?, all_varchar = true, delim = ',', "
            "quote = '\"', escape = '\"', strict_mode = true, null_padding = false, ignore_errors = false, "
            "skip = 0, comment = '', encoding = 'utf-8')",
            [str(landed.path), columns],
        )
    except duckdb.Error as exc:
        raise _reader_error(contract, landed, "malformed_csv", exc) from None
    return StagedFile("csv", tuple(header), _count(conn))


def _csv_header(landed: LandedFile, contract: SourceContract) -> list[str]:
    """First record of the file, names stripped; must be non-empty, named and unique (case-insensitively,
    because SQL identifiers are)."""
    rel = landed.relative_path
    with landed.path.open(encoding="utf-8-sig", newline="") as fh:
        try:
            row = next(csv.reader(fh, strict=True), None)
        except csv.Error as exc:
            raise _error(contract, rel, "malformed_csv", f"unreadable header: {exc}", 1) from None
    if not row or all(not c.strip() for c in row):
        raise _error(contract, rel, "empty_file", "no header row")
    names = [c.strip() for c in row]
    if "" in names:
        raise _error(contract, rel, "malformed_header", f"empty column name at position {names.index('') + 1}", 1)
    seen: dict[str, str] = {}
    for name in names:
        if name.lower() in seen:
            raise _error(contract, rel, "duplicate_columns", f"column {name!r} appears more than once in the header", 1)
        seen[name.lower()] = name
    return names


def _stage_jsonl(conn: duckdb.DuckDBPyConnection, landed: LandedFile, contract: SourceContract) -> StagedFile:
    """One JSON object per line, kept as JSON text; columns are extracted as text later.

    Reading whole objects (not `read_json` with a fixed schema) lets us see every key that was delivered, so
    missing and unexpected columns are detected. A key missing from some objects is treated as null in those
    rows (JSON writers commonly omit nulls); a contract key missing from *every* object is a missing column.
    """
    try:
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {ident(STAGE_TABLE)} AS SELECT {_ROW_NUMBER}, json FROM "
            "read_json_objects(?, format = 'newline_delimited', ignore_errors = false)",
            [str(landed.path)],
        )
    except duckdb.Error as exc:
        raise _reader_error(contract, landed, "malformed_jsonl", exc) from None
    rows = _count(conn)
    if rows == 0:
        raise _error(contract, landed.relative_path, "empty_file", "no JSON records")
    stage = f"temp.main.{ident(STAGE_TABLE)}"
    (first_bad,) = conn.execute(
        f"SELECT min({ident(STAGE_ROW)}) FROM {stage} WHERE json_type(json) <> 'OBJECT'"
    ).fetchone()
    if first_bad is not None:
        raise _error(contract, landed.relative_path, "malformed_jsonl", f"record {first_bad} is not a JSON object")
    keys = [k for (k,) in conn.execute(f"SELECT DISTINCT unnest(json_keys(json)) FROM {stage}").fetchall()]
    return StagedFile("jsonl", tuple(sorted(keys)), rows)


def _stage_parquet(conn: duckdb.DuckDBPyConnection, landed: LandedFile, contract: SourceContract) -> StagedFile:
    """Parquet is typed already, but casting every column to text lets one validation path serve all formats
    (e.g. a double NaN becomes 'nan' and is caught by the `finite` rule)."""
    try:
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {ident(STAGE_TABLE)} AS "
            f"SELECT {_ROW_NUMBER}, COLUMNS(*)::varchar FROM read_parquet(?)",
            [str(landed.path)],
        )
    except duckdb.Error as exc:
        raise _reader_error(contract, landed, "unreadable_parquet", exc) from None
    columns = tuple(
        name
        for (name, *_rest) in conn.execute(f"DESCRIBE temp.main.{ident(STAGE_TABLE)}").fetchall()
        if name != STAGE_ROW
    )
    return StagedFile("parquet", columns, _count(conn))


def _count(conn: duckdb.DuckDBPyConnection) -> int:
    (n,) = conn.execute(f"SELECT count(*) FROM temp.main.{ident(STAGE_TABLE)}").fetchone()
    return int(n)


def _json_pointer(key: str) -> str:
    """RFC 6901 pointer to a top-level key: safe for any key (dots, slashes, quotes) unlike a JSONPath."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


_LINE_PATTERNS = (re.compile(r"CSV Error on Line: (\d+)"), re.compile(r"\bline (\d+)"))
_ERROR_CLASS_PREFIX = re.compile(r"^[A-Z][A-Za-z ]* Error: ")
_STOP_PREFIXES = ("Possible fix", "Possible Solution", "LINE 1:", "file =")


def _reader_error(contract: SourceContract, landed: LandedFile, rule: str, exc: duckdb.Error) -> SourceContractError:
    """Turn a DuckDB reader error into a SourceContractError without leaking row contents.

    DuckDB's CSV errors echo the offending line ("Original Line: ..."), which may contain pay data; only the
    line number and the reader's diagnosis are kept.
    """
    text = _ERROR_CLASS_PREFIX.sub("", str(exc).replace(str(landed.path), landed.relative_path))
    line = None
    for pattern in _LINE_PATTERNS:
        if match := pattern.search(text):
            line = int(match.group(1))
            break
    kept: list[str] = []
    for raw_line in text.splitlines():
        stripped = raw_line.strip()
        if stripped.startswith(_STOP_PREFIXES):
            break
        if not stripped or stripped.startswith(("Original Line", "CSV Error on Line")):
            continue
        kept.append(stripped)
    detail = " ".join(kept) or type(exc).__name__
    return _error(contract, landed.relative_path, rule, detail, line)


def _error(contract: SourceContract, file: str, rule: str, detail: str, line: int | None = None) -> SourceContractError:
    return SourceContractError(
        source=contract.source, entity=contract.entity, file=file, rule=rule, detail=detail, line=line
    )
