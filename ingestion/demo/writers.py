"""Monthly incremental extract files, written exactly in the shape of the source contracts.

Real source systems are extracted incrementally on a last-modified timestamp, so the landing folder holds one
file per entity per month with the versions modified in that month. The simulation, however, produces
versions out of time order (an opportunity created in March emits its closing version in June, a subscription
emits invoices for years). `ExtractWriter` therefore buckets encoded rows by (entity, month), spills the
buckets to a scratch folder once too many rows are buffered, and only at `finalize` sorts each bucket by the
contract's version key and writes the final file. Memory stays bounded by the largest single monthly file,
which is what lets 10,000 payees run in the same process as 200.

Encoding rules (one place, so CSV and JSONL stay consistent):
- columns exactly the contract's, in contract order;
- dates `YYYY-MM-DD`, timestamps `YYYY-MM-DDTHH:MM:SS`, booleans `true`/`false`;
- decimals printed with the contract's scale (no float repr noise);
- null is an empty CSV field or JSON `null`.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.contracts import CONTRACTS_BY_NAME, Column, SourceContract
from ingestion.demo.timeline import month_key

FIELD_SEP = "\x1f"
"""Separates encoded fields in buffers and spool files; sorts below every printable character, so the joined
version key orders exactly like the tuple of its fields."""
KEY_SEP = "\x1e"


def _decimal_scale(type_: str) -> int:
    inside = type_[type_.index("(") + 1 : type_.index(")")]
    return int(inside.split(",")[1])


def _text_encoder(column: Column) -> Callable[[Any], str]:
    """Value -> text as it appears in a CSV field (and, quoted where needed, in JSON)."""
    type_ = column.type
    if type_ == "varchar":
        return str
    if type_ == "date":

        def enc_date(v: date) -> str:
            return v.isoformat()

        return enc_date
    if type_ == "timestamp":

        def enc_ts(v: datetime) -> str:
            if v.microsecond:
                raise ValueError(f"{column.name}: timestamps are written to the second, got {v!r}")
            return v.isoformat()

        return enc_ts
    if type_ == "boolean":

        def enc_bool(v: bool) -> str:
            return "true" if v else "false"

        return enc_bool
    if type_ == "integer":

        def enc_int(v: int) -> str:
            return str(int(v))

        return enc_int
    if type_.startswith("decimal"):
        scale = _decimal_scale(type_)

        def enc_dec(v: Decimal) -> str:
            if not isinstance(v, Decimal):
                raise TypeError(f"{column.name}: decimals must be Decimal, got {type(v).__name__}")
            return f"{v:.{scale}f}"

        return enc_dec
    raise ValueError(f"no encoder for column type {type_!r}")


def _json_encoder(column: Column) -> Callable[[Any], str]:
    text = _text_encoder(column)
    if column.type == "varchar":

        def enc_str(v: str) -> str:
            return json.dumps(v, ensure_ascii=False)

        return enc_str
    if column.type in ("date", "timestamp"):

        def enc_quoted(v: Any) -> str:
            return f'"{text(v)}"'

        return enc_quoted
    return text  # numbers and true/false are already valid JSON literals


@dataclass
class _EntityCodec:
    """Everything needed to encode, key and validate one contract's rows."""

    contract: SourceContract
    encoders: list[Callable[[Any], str]]
    text_encoders: list[Callable[[Any], str]]
    key_index: list[int]
    required: list[int]
    allowed: list[tuple[int, frozenset[str]]]
    json_names: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, contract: SourceContract) -> _EntityCodec:
        names = [c.name for c in contract.columns]
        if contract.file_format == "jsonl":
            encoders = [_json_encoder(c) for c in contract.columns]
        else:
            encoders = [_text_encoder(c) for c in contract.columns]
        return cls(
            contract=contract,
            encoders=encoders,
            text_encoders=[_text_encoder(c) for c in contract.columns],
            key_index=[names.index(k) for k in contract.version_key],
            required=[i for i, c in enumerate(contract.columns) if not c.nullable],
            allowed=[(i, frozenset(c.allowed)) for i, c in enumerate(contract.columns) if c.allowed],
            json_names=[json.dumps(n) for n in names],
        )

    def check(self, row: Sequence[Any]) -> None:
        """Fail fast on a generator bug instead of landing a row the loader would quarantine."""
        columns = self.contract.columns
        if len(row) != len(columns):
            raise ValueError(f"{self.contract.name}: expected {len(columns)} values, got {len(row)}: {row!r}")
        for i in self.required:
            if row[i] is None:
                raise ValueError(f"{self.contract.name}: {columns[i].name} must not be null: {row!r}")
        for i, allowed in self.allowed:
            if row[i] is not None and row[i] not in allowed:
                raise ValueError(f"{self.contract.name}: {columns[i].name}={row[i]!r} not in {sorted(allowed)}")

    def encode(self, row: Sequence[Any]) -> tuple[str, str]:
        """Row -> (sort key, payload): CSV fields joined by FIELD_SEP, or the JSONL line itself."""
        if self.contract.file_format == "jsonl":
            parts = [
                f"{name}:{'null' if v is None else enc(v)}"
                for name, enc, v in zip(self.json_names, self.encoders, row, strict=True)
            ]
            payload = "{" + ",".join(parts) + "}"
            key = FIELD_SEP.join("" if row[i] is None else self.text_encoders[i](row[i]) for i in self.key_index)
            return key, payload
        texts = ["" if v is None else enc(v) for enc, v in zip(self.encoders, row, strict=True)]
        for t in texts:
            if FIELD_SEP in t or KEY_SEP in t or "\n" in t or "\r" in t:
                raise ValueError(f"{self.contract.name}: control character in value {t!r}")
        key = FIELD_SEP.join(texts[i] for i in self.key_index)
        return key, FIELD_SEP.join(texts)


class ExtractWriter:
    """Buffers rows per (entity, month) and writes sorted monthly extract files on `finalize`."""

    def __init__(self, landing_dir: Path, spill_threshold: int = 250_000) -> None:
        self.landing_dir = landing_dir
        self.spill_threshold = spill_threshold
        self._codecs = {name: _EntityCodec.build(c) for name, c in CONTRACTS_BY_NAME.items()}
        self._buffers: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._parquet_rows: dict[tuple[str, str], list[Sequence[Any]]] = {}
        self._buffered = 0
        self._spool_dir: Path | None = None
        self._spooled: set[tuple[str, str]] = set()
        self.counts: dict[str, int] = {name: 0 for name in CONTRACTS_BY_NAME}

    # ---- collecting ------------------------------------------------------------------------------------

    def add(self, entity: str, when: date | datetime, row: Sequence[Any]) -> None:
        """Queue one row of `entity` (`<source>__<entity>`) for the extract of `when`'s month."""
        codec = self._codecs[entity]
        codec.check(row)
        bucket = (entity, month_key(when))
        self.counts[entity] += 1
        if codec.contract.file_format == "parquet":
            self._parquet_rows.setdefault(bucket, []).append(row)
            return
        self._buffers.setdefault(bucket, []).append(codec.encode(row))
        self._buffered += 1
        if self._buffered >= self.spill_threshold:
            self._spill()

    def _spill(self) -> None:
        """Append every buffer to its scratch file so memory stays bounded on large companies."""
        if self._spool_dir is None:
            self.landing_dir.mkdir(parents=True, exist_ok=True)
            self._spool_dir = Path(tempfile.mkdtemp(prefix=".demo-spool-", dir=self.landing_dir))
        for bucket, rows in self._buffers.items():
            with self._spool_path(bucket).open("a", encoding="utf-8", newline="\n") as fh:
                fh.writelines(f"{key}{KEY_SEP}{payload}\n" for key, payload in rows)
            self._spooled.add(bucket)
        self._buffers.clear()
        self._buffered = 0

    def _spool_path(self, bucket: tuple[str, str]) -> Path:
        assert self._spool_dir is not None
        return self._spool_dir / f"{bucket[0]}__{bucket[1]}.spool"

    # ---- writing ---------------------------------------------------------------------------------------

    def finalize(self) -> list[Path]:
        """Write every bucket as `<source>/<entity>/<entity>_<YYYY-MM>.<ext>`; return the files written."""
        written: list[Path] = []
        try:
            buckets = sorted(set(self._buffers) | self._spooled)
            for bucket in buckets:
                rows = self._buffers.pop(bucket, [])
                if bucket in self._spooled:
                    with self._spool_path(bucket).open(encoding="utf-8", newline="\n") as fh:
                        for line in fh:
                            key, payload = line.rstrip("\n").split(KEY_SEP, 1)
                            rows.append((key, payload))
                    self._spool_path(bucket).unlink()
                written.append(self._write_text(bucket, rows))
                del rows
            for bucket in sorted(self._parquet_rows):
                written.append(self._write_parquet(bucket, self._parquet_rows.pop(bucket)))
        finally:
            self.discard_spool()
        return sorted(written)

    def discard_spool(self) -> None:
        if self._spool_dir is not None:
            shutil.rmtree(self._spool_dir, ignore_errors=True)
            self._spool_dir = None

    def _target(self, bucket: tuple[str, str]) -> Path:
        contract = self._codecs[bucket[0]].contract
        folder = self.landing_dir / contract.source / contract.entity
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{contract.entity}_{bucket[1]}.{contract.file_format}"

    def _write_text(self, bucket: tuple[str, str], rows: list[tuple[str, str]]) -> Path:
        contract = self._codecs[bucket[0]].contract
        rows.sort()
        _reject_duplicate_keys(contract, bucket[1], (key for key, _ in rows))
        path = self._target(bucket)
        with path.open("w", encoding="utf-8", newline="") as fh:
            if contract.file_format == "csv":
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow([c.name for c in contract.columns])
                writer.writerows(payload.split(FIELD_SEP) for _, payload in rows)
            else:
                fh.writelines(f"{payload}\n" for _, payload in rows)
        return path

    def _write_parquet(self, bucket: tuple[str, str], rows: list[Sequence[Any]]) -> Path:
        codec = self._codecs[bucket[0]]
        contract = codec.contract
        rows = sorted(rows, key=lambda r: tuple(r[i] for i in codec.key_index))
        _reject_duplicate_keys(contract, bucket[1], (FIELD_SEP.join(str(r[i]) for i in codec.key_index) for r in rows))
        schema = arrow_schema(contract)
        columns = [pa.array([r[i] for r in rows], type=f.type) for i, f in enumerate(schema)]
        table = pa.Table.from_arrays(columns, schema=schema)
        path = self._target(bucket)
        pq.write_table(table, path, compression="snappy")
        return path


def _reject_duplicate_keys(contract: SourceContract, month: str, keys: Iterable[str]) -> None:
    previous = None
    for key in keys:
        if key == previous:
            raise ValueError(f"{contract.name} {month}: duplicate version key {key.split(FIELD_SEP)}")
        previous = key


_ARROW_TYPES: dict[str, pa.DataType] = {
    "varchar": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("s"),
    "boolean": pa.bool_(),
    "integer": pa.int32(),
}


def arrow_type(type_: str) -> pa.DataType:
    if type_.startswith("decimal"):
        inside = type_[type_.index("(") + 1 : type_.index(")")]
        precision, scale = (int(x) for x in inside.split(","))
        return pa.decimal128(precision, scale)
    return _ARROW_TYPES[type_]


def arrow_schema(contract: SourceContract) -> pa.Schema:
    """Parquet schema matching the contract: same names, order, decimal precision/scale and nullability."""
    return pa.schema([pa.field(c.name, arrow_type(c.type), nullable=c.nullable) for c in contract.columns])
