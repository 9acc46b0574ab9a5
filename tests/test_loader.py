"""Behaviour of the raw-layer loader (ingestion.loader), on tiny files built by hand from the contracts."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import pickle
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.contracts import CONTRACTS, MONEY, Column, SourceContract, contract
from ingestion.errors import LandedFileChangedError, SourceContractError
from ingestion.loader import LoadResult, RawSchemaError, ensure_raw_tables, load_all, load_entity

OPPS = contract("crm__opportunities")
INVOICES = contract("billing__invoices")
RATES = contract("fx__rates")
NOW = datetime(2024, 3, 1, 12, 0, 0)
METADATA_TABLES = ("_loaded_files", "_quarantine", "_schema_drift")


# --------------------------------------------------------------------------------------------- helpers


def opp(**overrides: str) -> dict[str, str]:
    """A valid crm opportunities row as CSV text; override fields per test."""
    row = {
        "opportunity_id": "O1",
        "account_id": "A1",
        "owner_user_id": "U1",
        "opportunity_name": "Deal",
        "opportunity_type": "new",
        "stage": "Closed Won",
        "amount": "1000.50",
        "currency": "USD",
        "created_date": "2024-01-05",
        "close_date": "2024-02-10",
        "is_closed": "true",
        "is_won": "true",
        "contract_term_months": "12",
        "last_modified": "2024-02-10 09:30:00",
    }
    row.update(overrides)
    return row


def invoice(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "invoice_id": "I1",
        "customer_id": "C1",
        "subscription_id": "S1",
        "crm_opportunity_id": "O1",
        "invoice_date": "2024-02-01",
        "due_date": "2024-03-01",
        "amount": 250.75,
        "currency": "EUR",
        "status": "paid",
        "paid_at": "2024-02-15T08:00:00Z",
        "last_modified": "2024-02-15T08:00:00Z",
    }
    row.update(overrides)
    return row


def entity_dir(landing: Path, c: SourceContract) -> Path:
    folder = landing / c.source / c.entity
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_csv(
    landing: Path, c: SourceContract, name: str, rows: list[dict[str, str]], columns: list[str] | None = None
) -> Path:
    columns = columns or [col.name for col in c.columns]
    path = entity_dir(landing, c) / name
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(col, "") for col in columns])
    return path


def write_bytes(landing: Path, c: SourceContract, name: str, data: bytes) -> Path:
    path = entity_dir(landing, c) / name
    path.write_bytes(data)
    return path


def write_jsonl(landing: Path, c: SourceContract, name: str, rows: list[dict[str, Any]]) -> Path:
    text = "".join(json.dumps(r) + "\n" for r in rows)
    return write_bytes(landing, c, name, text.encode())


def rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return conn.execute(sql, params or []).fetchall()


def snapshot(conn: duckdb.DuckDBPyConnection, c: SourceContract) -> dict[str, list[tuple[Any, ...]]]:
    """Full contents of the entity's raw table and the metadata tables, in a stable order."""
    tables = [c.name, *METADATA_TABLES]
    return {t: sorted(rows(conn, f'SELECT * FROM raw."{t}"'), key=repr) for t in tables}


def quarantine(conn: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return rows(conn, "SELECT source_row, record_key, rule FROM raw._quarantine ORDER BY source_row, rule")


def assert_accounted(result: LoadResult) -> None:
    assert result.rows_read == result.rows_loaded + result.rows_duplicate + result.rows_quarantined


@pytest.fixture
def conn() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


# ------------------------------------------------------------------------------------------ happy path


def test_loads_typed_rows_with_metadata(conn, landing):
    path = write_csv(landing, OPPS, "2024-02-10.csv", [opp(), opp(opportunity_id="O2", amount="7", is_won="false")])

    result = load_entity(conn, landing, OPPS, now=NOW)

    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    load_id = hashlib.sha256(f"crm__opportunities:{sha}".encode()).hexdigest()[:16]
    assert result == LoadResult(
        entity="crm__opportunities",
        files_loaded=["crm/opportunities/2024-02-10.csv"],
        files_skipped=[],
        rows_read=2,
        rows_loaded=2,
        rows_duplicate=0,
        rows_quarantined=0,
        unexpected_columns={},
        load_ids=[load_id],
    )
    types = dict(
        rows(
            conn,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'crm__opportunities'",
        )
    )
    assert types["amount"] == "DECIMAL(18,2)"
    assert types["created_date"] == "DATE"
    assert types["is_won"] == "BOOLEAN"
    assert types["contract_term_months"] == "INTEGER"
    assert types["last_modified"] == "TIMESTAMP"
    assert types["_source_row"] == "BIGINT"
    loaded = rows(
        conn,
        "SELECT opportunity_id, amount, created_date, is_won, contract_term_months, last_modified, "
        "_load_id, _loaded_at, _source_file, _source_row FROM raw.crm__opportunities ORDER BY _source_row",
    )
    assert loaded == [
        (
            "O1",
            Decimal("1000.50"),
            date(2024, 1, 5),
            True,
            12,
            datetime(2024, 2, 10, 9, 30),
            load_id,
            NOW,
            "crm/opportunities/2024-02-10.csv",
            1,
        ),
        (
            "O2",
            Decimal("7.00"),
            date(2024, 1, 5),
            False,
            12,
            datetime(2024, 2, 10, 9, 30),
            load_id,
            NOW,
            "crm/opportunities/2024-02-10.csv",
            2,
        ),
    ]
    assert rows(
        conn,
        "SELECT load_id, entity, source_file, sha256, file_size, rows_read, rows_loaded, "
        "rows_duplicate, rows_quarantined, loaded_at FROM raw._loaded_files",
    ) == [
        (
            load_id,
            "crm__opportunities",
            "crm/opportunities/2024-02-10.csv",
            sha,
            path.stat().st_size,
            2,
            2,
            0,
            0,
            NOW,
        )
    ]


def test_csv_empty_string_is_null_for_nullable_columns(conn, landing):
    write_csv(landing, OPPS, "a.csv", [opp(opportunity_name="", contract_term_months="")])

    load_entity(conn, landing, OPPS, now=NOW)

    assert rows(conn, "SELECT opportunity_name, contract_term_months FROM raw.crm__opportunities") == [(None, None)]


def test_timestamp_with_utc_offset_is_converted_to_utc(conn, landing):
    write_csv(landing, OPPS, "a.csv", [opp(last_modified="2024-02-10T11:30:00+02:00")])

    load_entity(conn, landing, OPPS, now=NOW)

    assert rows(conn, "SELECT last_modified FROM raw.crm__opportunities") == [(datetime(2024, 2, 10, 9, 30),)]


def test_rerun_with_no_new_files_changes_nothing(conn, landing):
    write_csv(landing, OPPS, "a.csv", [opp(), opp(opportunity_id="O2", amount="-1")])
    first = load_entity(conn, landing, OPPS, now=NOW)
    before = snapshot(conn, OPPS)

    again = load_entity(conn, landing, OPPS, now=datetime(2024, 3, 2))

    assert snapshot(conn, OPPS) == before
    assert again.files_loaded == [] and again.files_skipped == ["crm/opportunities/a.csv"]
    assert (again.rows_read, again.rows_loaded, again.rows_quarantined, again.load_ids) == (0, 0, 0, [])
    assert first.rows_loaded == 1


def test_new_file_appends_and_old_rows_stay(conn, landing):
    write_csv(landing, OPPS, "2024-02-10.csv", [opp()])
    load_entity(conn, landing, OPPS, now=NOW)
    old = rows(conn, "SELECT * FROM raw.crm__opportunities")

    # The next extract carries a later version of O1 (amount edited) and a new deal.
    write_csv(
        landing,
        OPPS,
        "2024-02-11.csv",
        [
            opp(amount="1200", last_modified="2024-02-11 10:00:00"),
            opp(opportunity_id="O2", last_modified="2024-02-11 10:00:00"),
        ],
    )
    result = load_entity(conn, landing, OPPS, now=datetime(2024, 3, 2))

    assert result.files_loaded == ["crm/opportunities/2024-02-11.csv"]
    assert result.files_skipped == ["crm/opportunities/2024-02-10.csv"]
    assert result.rows_loaded == 2
    after = rows(conn, "SELECT * FROM raw.crm__opportunities")
    assert len(after) == 3
    assert set(old) <= set(after)
    assert rows(
        conn, "SELECT amount FROM raw.crm__opportunities WHERE opportunity_id = 'O1' ORDER BY last_modified"
    ) == [(Decimal("1000.50"),), (Decimal("1200.00"),)]


def test_files_load_in_sorted_path_order_within_one_call(conn, landing):
    write_csv(landing, OPPS, "b.csv", [opp(opportunity_id="O2")])
    write_csv(landing, OPPS, "a.csv", [opp(opportunity_id="O1")])

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert result.files_loaded == ["crm/opportunities/a.csv", "crm/opportunities/b.csv"]
    assert len(result.load_ids) == 2


# ------------------------------------------------------------------------------------------ duplicates


def test_same_version_key_redelivered_is_skipped(conn, landing):
    write_csv(landing, OPPS, "a.csv", [opp()])
    load_entity(conn, landing, OPPS, now=NOW)

    # Overlapping extract: O1 again (same version, amount spelled differently), plus a repeat within the file.
    write_csv(landing, OPPS, "b.csv", [opp(amount="1000.5"), opp(opportunity_id="O2"), opp(opportunity_id="O2")])
    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.rows_read, result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (
        3,
        1,
        2,
        0,
    )
    assert rows(conn, "SELECT opportunity_id, count(*) FROM raw.crm__opportunities GROUP BY ALL ORDER BY 1") == [
        ("O1", 1),
        ("O2", 1),
    ]
    assert rows(conn, "SELECT rows_duplicate FROM raw._loaded_files WHERE source_file LIKE '%b.csv'") == [(2,)]


def test_conflicting_duplicate_in_same_load_is_quarantined(conn, landing):
    write_csv(landing, OPPS, "a.csv", [opp(), opp(amount="999"), opp()])

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (1, 1, 1)
    assert quarantine(conn) == [(2, "opportunity_id=O1", "conflicting_duplicate:opportunity_id,last_modified")]
    assert rows(conn, "SELECT amount FROM raw.crm__opportunities") == [(Decimal("1000.50"),)]


def test_conflicting_duplicate_of_an_already_loaded_version_is_quarantined(conn, landing):
    write_csv(landing, OPPS, "a.csv", [opp()])
    load_entity(conn, landing, OPPS, now=NOW)

    write_csv(landing, OPPS, "b.csv", [opp(amount="5")])
    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.rows_loaded, result.rows_quarantined) == (0, 1)
    (detail,) = rows(conn, "SELECT detail FROM raw._quarantine")[0]
    assert "crm/opportunities/a.csv" in detail
    assert rows(conn, "SELECT amount FROM raw.crm__opportunities") == [(Decimal("1000.50"),)]


# ----------------------------------------------------------------------------------- file-level errors


def test_changed_landed_file_raises_naming_the_file(conn, landing):
    path = write_csv(landing, OPPS, "a.csv", [opp()])
    load_entity(conn, landing, OPPS, now=NOW)
    before = snapshot(conn, OPPS)

    write_csv(landing, OPPS, "a.csv", [opp(amount="1")])
    write_csv(landing, OPPS, "b.csv", [opp(opportunity_id="O2")])
    with pytest.raises(LandedFileChangedError, match=r"crm/opportunities/a\.csv") as info:
        load_entity(conn, landing, OPPS, now=NOW)

    assert isinstance(info.value, SourceContractError)
    assert info.value.rule == "immutable_file"
    assert "land a new file instead" in str(info.value)
    assert snapshot(conn, OPPS) == before
    assert path.exists()


def test_missing_column_raises_naming_column_and_file(conn, landing):
    columns = [c.name for c in OPPS.columns if c.name not in ("amount", "stage")]
    write_csv(landing, OPPS, "a.csv", [opp()], columns=columns)

    with pytest.raises(SourceContractError) as info:
        load_entity(conn, landing, OPPS, now=NOW)

    err = info.value
    assert (err.source, err.entity, err.file, err.rule) == (
        "crm",
        "opportunities",
        "crm/opportunities/a.csv",
        "missing_columns",
    )
    assert "stage" in str(err) and "amount" in str(err) and "crm/opportunities/a.csv" in str(err)


@pytest.mark.parametrize(
    ("last_line", "expected_line"),
    [
        pytest.param("O3,A1,U1,Deal,new\n", 4, id="ragged-row"),
        pytest.param(
            'O3,A1,U1,"Secret Deal,new,Prospecting,5,USD,2024-01-01,2024-01-01,f,f,,2024-01-01\n',
            4,
            id="unterminated-quote",
        ),
    ],
)
def test_malformed_csv_raises_naming_file_and_line(conn, landing, last_line, expected_line):
    path = write_csv(landing, OPPS, "a.csv", [opp(), opp(opportunity_id="O2")])
    with path.open("a", encoding="utf-8") as fh:
        fh.write(last_line)

    with pytest.raises(SourceContractError) as info:
        load_entity(conn, landing, OPPS, now=NOW)

    err = info.value
    assert err.rule == "malformed_csv"
    assert err.file == "crm/opportunities/a.csv"
    assert err.line == expected_line
    assert "crm/opportunities/a.csv" in str(err)
    assert "Secret Deal" not in str(err) and "O3" not in str(err)  # row contents never leak into errors


@pytest.mark.parametrize(
    ("c", "name", "data"),
    [
        pytest.param(OPPS, "a.csv", b"", id="csv-zero-bytes"),
        pytest.param(OPPS, "a.csv", b"\n\n", id="csv-no-header"),
        pytest.param(INVOICES, "a.jsonl", b"", id="jsonl-zero-bytes"),
        pytest.param(INVOICES, "a.jsonl", b"\n\n", id="jsonl-no-records"),
        pytest.param(RATES, "a.parquet", b"", id="parquet-zero-bytes"),
    ],
)
def test_empty_file_raises(conn, landing, c, name, data):
    write_bytes(landing, c, name, data)

    with pytest.raises(SourceContractError, match=rf"{c.source}/{c.entity}/{name}") as info:
        load_entity(conn, landing, c, now=NOW)

    assert info.value.rule == "empty_file"


def test_header_only_csv_loads_zero_rows(conn, landing):
    write_csv(landing, OPPS, "a.csv", [])

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.files_loaded, result.rows_read) == (["crm/opportunities/a.csv"], 0)


def test_non_utf8_file_raises(conn, landing):
    path = write_csv(landing, OPPS, "a.csv", [opp()])
    with path.open("ab") as fh:
        fh.write(
            "O2,A1,U1,Caf\u00e9 deal,new,Prospecting,5,USD,2024-01-01,2024-01-01,f,f,,2024-01-01\n".encode("latin-1")
        )

    with pytest.raises(SourceContractError, match=r"crm/opportunities/a\.csv") as info:
        load_entity(conn, landing, OPPS, now=NOW)

    assert info.value.rule == "encoding"
    assert info.value.line == 3
    assert "UTF-8" in str(info.value)


def test_duplicate_header_column_raises(conn, landing):
    columns = [c.name for c in OPPS.columns] + ["amount"]
    write_csv(landing, OPPS, "a.csv", [opp()], columns=columns)

    with pytest.raises(SourceContractError, match="duplicate_columns"):
        load_entity(conn, landing, OPPS, now=NOW)


def test_malformed_jsonl_raises_naming_file(conn, landing):
    write_bytes(landing, INVOICES, "a.jsonl", (json.dumps(invoice()) + '\n{"invoice_id": "I2",\n').encode())

    with pytest.raises(SourceContractError, match=r"billing/invoices/a\.jsonl") as info:
        load_entity(conn, landing, INVOICES, now=NOW)

    assert info.value.rule == "malformed_jsonl"


def test_jsonl_line_that_is_not_an_object_raises(conn, landing):
    write_bytes(landing, INVOICES, "a.jsonl", (json.dumps(invoice()) + "\n[1, 2]\n").encode())

    with pytest.raises(SourceContractError, match="record 2 is not a JSON object"):
        load_entity(conn, landing, INVOICES, now=NOW)


def test_unreadable_parquet_raises(conn, landing):
    write_bytes(landing, RATES, "a.parquet", b"PAR1 this is not parquet")

    with pytest.raises(SourceContractError, match=r"fx/rates/a\.parquet") as info:
        load_entity(conn, landing, RATES, now=NOW)

    assert info.value.rule == "unreadable_parquet"


def test_source_contract_error_survives_pickling():
    err = SourceContractError(source="crm", entity="users", file="f.csv", rule="empty_file", detail="d", line=3)

    clone = pickle.loads(pickle.dumps(err))

    assert (str(clone), clone.rule, clone.line, type(clone)) == (
        str(err),
        "empty_file",
        3,
        SourceContractError,
    )


# ---------------------------------------------------------------------------------------- schema drift


def test_extra_column_is_recorded_as_drift_and_load_succeeds(conn, landing):
    columns = [*(c.name for c in OPPS.columns), "probability"]
    write_csv(landing, OPPS, "a.csv", [opp(probability="0.9")], columns=columns)

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert result.rows_loaded == 1
    assert result.unexpected_columns == {"crm/opportunities/a.csv": ["probability"]}
    assert rows(conn, "SELECT load_id, entity, source_file, column_name, detected_at FROM raw._schema_drift") == [
        (result.load_ids[0], "crm__opportunities", "crm/opportunities/a.csv", "probability", NOW)
    ]
    raw_columns = {
        name
        for (name,) in rows(
            conn, "SELECT column_name FROM information_schema.columns WHERE table_name = 'crm__opportunities'"
        )
    }
    assert "probability" not in raw_columns


# -------------------------------------------------------------------------------------- row quarantine


@pytest.mark.parametrize(
    ("overrides", "record_key", "rules"),
    [
        pytest.param({"amount": "12,5"}, "opportunity_id=O2", ["type:amount:decimal(18,2)"], id="bad-decimal"),
        pytest.param({"close_date": "2024-02-30"}, "opportunity_id=O2", ["type:close_date:date"], id="bad-date"),
        pytest.param({"is_won": "maybe"}, "opportunity_id=O2", ["type:is_won:boolean"], id="bad-boolean"),
        pytest.param({"opportunity_id": ""}, "opportunity_id=<null>", ["not_null:opportunity_id"], id="null-key"),
        pytest.param({"owner_user_id": "  "}, "opportunity_id=O2", ["not_null:owner_user_id"], id="blank-required"),
        pytest.param({"stage": "Won"}, "opportunity_id=O2", ["allowed_values:stage"], id="disallowed-value"),
        pytest.param({"amount": "-0.01"}, "opportunity_id=O2", ["non_negative:amount"], id="negative-amount"),
        pytest.param({"amount": "NaN"}, "opportunity_id=O2", ["finite:amount", "non_negative:amount"], id="nan"),
        pytest.param({"amount": "inf"}, "opportunity_id=O2", ["finite:amount"], id="infinite"),
        pytest.param(
            {"contract_term_months": "nan"},
            "opportunity_id=O2",
            ["finite:contract_term_months"],
            id="nan-in-integer",
        ),
        # NOW is 2024-03-01 12:00; a last-change stamp more than a day (FUTURE_TOLERANCE) later is future-dated
        pytest.param(
            {"last_modified": "2024-03-02T12:00:01"},
            "opportunity_id=O2",
            ["not_future:last_modified"],
            id="future-dated-last-modified",
        ),
        pytest.param(
            {"stage": "Won", "amount": "-3"},
            "opportunity_id=O2",
            ["allowed_values:stage", "non_negative:amount"],
            id="two-rules-two-rows",
        ),
    ],
)
def test_bad_row_is_quarantined_with_rule_and_record_key(conn, landing, overrides, record_key, rules):
    write_csv(
        landing,
        OPPS,
        "a.csv",
        [opp(), opp(**{"opportunity_id": "O2", **overrides}), opp(opportunity_id="O3")],
    )

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert_accounted(result)
    assert quarantine(conn) == [(2, record_key, rule) for rule in sorted(rules)]
    assert rows(conn, "SELECT opportunity_id FROM raw.crm__opportunities ORDER BY 1") == [("O1",), ("O3",)]
    (load_id, entity, source_file, raw_record, quarantined_at) = rows(
        conn, "SELECT load_id, entity, source_file, raw_record, quarantined_at FROM raw._quarantine"
    )[0]
    assert (load_id, entity, source_file, quarantined_at) == (
        result.load_ids[0],
        "crm__opportunities",
        "crm/opportunities/a.csv",
        NOW,
    )
    assert json.loads(raw_record)["currency"] == "USD"
    assert rows(conn, "SELECT rows_quarantined FROM raw._loaded_files") == [(1,)]


def test_last_modified_within_the_clock_tolerance_loads(conn, landing):
    write_csv(landing, OPPS, "a.csv", [opp(last_modified="2024-03-02T12:00:00")])

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)


def test_quarantined_rows_are_not_reloaded_on_rerun(conn, landing):
    write_csv(landing, OPPS, "a.csv", [opp(amount="abc")])
    load_entity(conn, landing, OPPS, now=NOW)

    load_entity(conn, landing, OPPS, now=NOW)

    assert len(quarantine(conn)) == 1


def test_record_key_joins_all_key_columns(conn, landing):
    quotas = contract("salesops__quotas")
    row = {
        "employee_id": "E1",
        "period_type": "quarterly",
        "period_start": "2024-01-01",
        "quota_amount": "100",
        "currency": "USD",
        "updated_at": "2024-01-01 00:00:00",
    }
    write_csv(landing, quotas, "q.csv", [row])

    load_entity(conn, landing, quotas, now=NOW)

    assert quarantine(conn) == [
        (1, "employee_id=E1, period_type=quarterly, period_start=2024-01-01", "allowed_values:period_type")
    ]


# ------------------------------------------------------------------------------------------- atomicity


def test_failure_mid_load_leaves_nothing_from_earlier_files(conn, landing):
    ensure_raw_tables(conn, [OPPS])
    write_csv(landing, OPPS, "a.csv", [opp(), opp(opportunity_id="O2", amount="-1")])
    columns = [*(c.name for c in OPPS.columns), "extra"]
    write_csv(landing, OPPS, "b.csv", [opp(opportunity_id="O3", extra="x")], columns=columns)
    bad = write_csv(landing, OPPS, "c.csv", [opp(opportunity_id="O4")])
    with bad.open("a", encoding="utf-8") as fh:
        fh.write("O5,too,few\n")
    empty = snapshot(conn, OPPS)

    with pytest.raises(SourceContractError, match=r"crm/opportunities/c\.csv"):
        load_entity(conn, landing, OPPS, now=NOW)

    assert snapshot(conn, OPPS) == empty
    assert all(not v for v in empty.values())

    # After the source lands a fixed file (under a new name), the rerun loads everything exactly once.
    bad.unlink()
    write_csv(landing, OPPS, "c2.csv", [opp(opportunity_id="O4")])
    result = load_entity(conn, landing, OPPS, now=NOW)
    assert result.files_loaded == [
        "crm/opportunities/a.csv",
        "crm/opportunities/b.csv",
        "crm/opportunities/c2.csv",
    ]
    assert rows(conn, "SELECT count(*) FROM raw.crm__opportunities") == [(3,)]


def test_connection_is_usable_after_a_failed_load(conn, landing):
    write_bytes(landing, OPPS, "a.csv", b"")
    with pytest.raises(SourceContractError):
        load_entity(conn, landing, OPPS, now=NOW)

    (landing / "crm/opportunities/a.csv").unlink()
    write_csv(landing, OPPS, "b.csv", [opp()])
    assert load_entity(conn, landing, OPPS, now=NOW).rows_loaded == 1


# --------------------------------------------------------------------------------------- other formats


def test_jsonl_file_loads(conn, landing):
    records = [
        invoice(),
        invoice(invoice_id="I2", status="open", paid_at=None, amount="99.10"),
        {k: v for k, v in invoice(invoice_id="I3", status="draft").items() if k != "subscription_id"},
        invoice(invoice_id="I4", amount={"value": 1}),
        invoice(invoice_id="I5", status="refunded", amount=-5, new_field=True),
    ]
    write_jsonl(landing, INVOICES, "2024-02-15.jsonl", records)

    result = load_entity(conn, landing, INVOICES, now=NOW)

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 3, 2)
    assert result.unexpected_columns == {"billing/invoices/2024-02-15.jsonl": ["new_field"]}
    assert rows(
        conn,
        "SELECT invoice_id, subscription_id, amount, paid_at, _source_row FROM raw.billing__invoices "
        "ORDER BY _source_row",
    ) == [
        ("I1", "S1", Decimal("250.75"), datetime(2024, 2, 15, 8, 0), 1),
        ("I2", "S1", Decimal("99.10"), None, 2),
        ("I3", None, Decimal("250.75"), datetime(2024, 2, 15, 8, 0), 3),
    ]
    # invoices.amount may be negative (credit notes): only the status is wrong in I5.
    assert quarantine(conn) == [
        (4, "invoice_id=I4", "type:amount:decimal(18,2)"),
        (5, "invoice_id=I5", "allowed_values:status"),
    ]
    raw_record = rows(conn, "SELECT raw_record FROM raw._quarantine WHERE source_row = 5")[0][0]
    assert json.loads(raw_record)["status"] == "refunded"


def test_jsonl_missing_key_in_every_record_raises(conn, landing):
    records = [{k: v for k, v in invoice().items() if k != "due_date"}]
    write_jsonl(landing, INVOICES, "a.jsonl", records)

    with pytest.raises(SourceContractError, match="due_date") as info:
        load_entity(conn, landing, INVOICES, now=NOW)

    assert info.value.rule == "missing_columns"


def test_parquet_file_loads(conn, landing):
    table = pa.table(
        {
            "rate_date": pa.array([date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 2)]),
            "currency": ["EUR", "GBP", "EUR", "GBP"],
            "rate_to_reporting": [1 / 0.92, 1.27, float("nan"), -1.0],
        }
    )
    pq.write_table(table, entity_dir(landing, RATES) / "2024-01.parquet")

    result = load_entity(conn, landing, RATES, now=NOW)

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 2, 2)
    assert rows(
        conn,
        "SELECT rate_date, currency, rate_to_reporting, _source_row FROM raw.fx__rates ORDER BY _source_row",
    ) == [
        (date(2024, 1, 1), "EUR", Decimal("1.08695652"), 1),
        (date(2024, 1, 1), "GBP", Decimal("1.27000000"), 2),
    ]
    assert quarantine(conn) == [
        (3, "rate_date=2024-01-02, currency=EUR", "finite:rate_to_reporting"),
        (3, "rate_date=2024-01-02, currency=EUR", "positive:rate_to_reporting"),
        (4, "rate_date=2024-01-02, currency=GBP", "positive:rate_to_reporting"),
    ]


# ---------------------------------------------------------------------------------- tables and helpers


def test_ensure_raw_tables_creates_empty_tables_for_every_contract(conn):
    ensure_raw_tables(conn, CONTRACTS)
    ensure_raw_tables(conn, CONTRACTS)  # idempotent

    tables = {
        name for (name,) in rows(conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'")
    }
    assert tables == {c.name for c in CONTRACTS} | set(METADATA_TABLES) | {"_refused_files"}
    for c in CONTRACTS:
        columns = [
            n
            for (n,) in rows(
                conn,
                "SELECT column_name FROM information_schema.columns WHERE table_schema "
                "= 'raw' AND table_name = ? ORDER BY ordinal_position",
                [c.name],
            )
        ]
        assert columns == [
            *(col.name for col in c.columns),
            "_load_id",
            "_loaded_at",
            "_source_file",
            "_source_row",
        ]
        assert rows(conn, f'SELECT count(*) FROM raw."{c.name}"') == [(0,)]


def test_contract_column_added_later_is_added_to_raw_table(conn, landing):
    write_csv(landing, OPPS, "a.csv", [opp()])
    load_entity(conn, landing, OPPS, now=NOW)
    extended = dataclasses.replace(OPPS, columns=(*OPPS.columns, Column("forecast_category", "varchar")))

    write_csv(
        landing,
        extended,
        "b.csv",
        [opp(opportunity_id="O2", forecast_category="Commit")],
        columns=[c.name for c in extended.columns],
    )
    load_entity(conn, landing, extended, now=NOW)

    assert rows(conn, "SELECT opportunity_id, forecast_category FROM raw.crm__opportunities ORDER BY 1") == [
        ("O1", None),
        ("O2", "Commit"),
    ]


def test_changed_contract_type_for_existing_raw_table_raises(conn):
    ensure_raw_tables(conn, [OPPS])
    retyped = dataclasses.replace(
        OPPS, columns=tuple(Column(c.name, "bigint") if c.name == "amount" else c for c in OPPS.columns)
    )

    with pytest.raises(RawSchemaError, match="amount"):
        ensure_raw_tables(conn, [retyped])


def test_load_all_loads_every_entity(conn, landing):
    write_csv(landing, OPPS, "a.csv", [opp()])
    write_jsonl(landing, INVOICES, "a.jsonl", [invoice()])

    results = load_all(conn, landing)

    assert set(results) == {c.name for c in CONTRACTS}
    assert results["crm__opportunities"].rows_loaded == 1
    assert results["billing__invoices"].rows_loaded == 1
    assert results["crm__users"].files_loaded == []


def test_hidden_files_are_ignored(conn, landing):
    write_csv(landing, OPPS, ".partial.csv", [opp()])

    assert load_entity(conn, landing, OPPS, now=NOW).files_loaded == []


def test_logs_carry_counts_and_file_names_but_no_row_contents(conn, landing, caplog):
    columns = [*(c.name for c in OPPS.columns), "note"]
    write_csv(
        landing,
        OPPS,
        "a.csv",
        [
            opp(opportunity_name="Confidential Name", amount="987654.32", note="x"),
            opp(opportunity_id="O2", amount="-123456.78", note="y"),
        ],
        columns=columns,
    )

    with caplog.at_level(logging.INFO, logger="ingestion"):
        load_entity(conn, landing, OPPS, now=NOW)

    assert "crm/opportunities/a.csv" in caplog.text
    assert "quarantined=1" in caplog.text
    for secret in ("Confidential Name", "987654", "123456", "O2"):
        assert secret not in caplog.text


# ------------------------------------------------------------- every landed file ends loaded, skipped or refused


def refused_files(conn: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return rows(conn, "SELECT entity, source_file, rule FROM raw._refused_files ORDER BY source_file")


def test_an_extract_whose_extension_differs_only_in_case_is_loaded(conn, landing):
    write_csv(landing, OPPS, "2024-02.CSV", [opp()])

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.files_loaded, result.rows_loaded) == (["crm/opportunities/2024-02.CSV"], 1)


def test_a_file_in_another_format_in_an_entity_folder_is_refused_and_recorded(conn, landing):
    ensure_raw_tables(conn, [OPPS])
    write_csv(landing, OPPS, "2024-01.csv", [opp()])
    write_bytes(landing, OPPS, "2024-02.xlsx", b"PK\x03\x04 a spreadsheet")

    with pytest.raises(SourceContractError) as refused:
        load_entity(conn, landing, OPPS, now=NOW)

    assert str(refused.value) == (
        "crm.opportunities: file 'crm/opportunities/2024-02.xlsx': rule unexpected_file: not a csv file "
        "(extension '.xlsx'): crm__opportunities is landed as *.csv; convert it, or move it out of the landing folder"
    )
    assert refused_files(conn) == [("crm__opportunities", "crm/opportunities/2024-02.xlsx", "unexpected_file")]
    assert rows(conn, "SELECT count(*) FROM raw.crm__opportunities") == [(0,)], "nothing of the entity loads"


def test_a_file_in_a_subfolder_of_an_entity_folder_is_refused(conn, landing):
    folder = entity_dir(landing, OPPS) / "2024"
    folder.mkdir()
    write_csv(landing, OPPS, "2024/2024-02.csv", [opp()])

    with pytest.raises(SourceContractError) as refused:
        load_entity(conn, landing, OPPS, now=NOW)

    assert refused.value.rule == "unexpected_file"
    assert refused.value.file == "crm/opportunities/2024/2024-02.csv"
    assert "go directly in crm/opportunities/" in str(refused.value)


def test_a_hidden_file_is_reported_in_flight_and_not_loaded(conn, landing, caplog):
    write_csv(landing, OPPS, ".2024-02.csv.tmp", [opp()])

    with caplog.at_level(logging.WARNING, logger="ingestion.loader"):
        result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.files_in_flight, result.files_loaded, result.rows_read) == (
        ["crm/opportunities/.2024-02.csv.tmp"],
        [],
        0,
    )
    assert "crm/opportunities/.2024-02.csv.tmp is a hidden (in-flight) file" in caplog.text


def test_a_file_outside_every_entity_folder_fails_the_load_naming_it(conn, landing):
    write_csv(landing, OPPS, "2024-01.csv", [opp()])
    typo = landing / "crm" / "opportunites"
    typo.mkdir(parents=True)
    (typo / "2024-02.csv").write_text("opportunity_id\nO2\n")

    with pytest.raises(SourceContractError) as refused:
        load_all(conn, landing, now=NOW)

    assert refused.value.rule == "unclaimed_file"
    assert refused.value.file == "crm/opportunites/2024-02.csv"
    assert str(refused.value).startswith(
        "crm.opportunites: file 'crm/opportunites/2024-02.csv': rule unclaimed_file: not in the folder of any "
        "source entity (<source>/<entity>/: billing/customers, "
    )
    assert refused_files(conn) == [("crm__opportunites", "crm/opportunites/2024-02.csv", "unclaimed_file")]
    assert rows(conn, "SELECT count(*) FROM raw._loaded_files") == [(0,)], "nothing loads while a file is unclaimed"


# ---------------------------------------------------------------------- FX: restated by delivery, rates > 0


def write_rates(landing: Path, name: str, rates: list[tuple[date, str, float]]) -> Path:
    table = pa.table(
        {
            "rate_date": pa.array([d for d, _, _ in rates]),
            "currency": [c for _, c, _ in rates],
            "rate_to_reporting": [r for _, _, r in rates],
        }
    )
    path = entity_dir(landing, RATES) / name
    pq.write_table(table, path)
    return path


def loaded_rates(conn: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return rows(
        conn,
        "SELECT _source_file, rate_date, currency, rate_to_reporting FROM raw.fx__rates ORDER BY _source_file",
    )


def test_a_corrected_fx_rate_in_a_later_file_restates_the_loaded_one(conn, landing):
    write_rates(landing, "2024-01.parquet", [(date(2024, 1, 2), "EUR", 1.10), (date(2024, 1, 2), "GBP", 1.27)])
    load_entity(conn, landing, RATES, now=NOW)
    write_rates(landing, "2024-01-fix.parquet", [(date(2024, 1, 2), "EUR", 1.09), (date(2024, 1, 2), "GBP", 1.27)])

    result = load_entity(conn, landing, RATES, now=NOW)

    assert (result.rows_loaded, result.rows_restated, result.rows_duplicate, result.rows_quarantined) == (1, 1, 1, 0)
    assert loaded_rates(conn) == [
        ("fx/rates/2024-01-fix.parquet", date(2024, 1, 2), "EUR", Decimal("1.09000000")),
        ("fx/rates/2024-01.parquet", date(2024, 1, 2), "EUR", Decimal("1.10000000")),
        ("fx/rates/2024-01.parquet", date(2024, 1, 2), "GBP", Decimal("1.27000000")),
    ]
    assert quarantine(conn) == []


def test_an_fx_rate_restated_back_to_an_earlier_value_loads_again(conn, landing):
    for name, rate in (("a.parquet", 1.10), ("b.parquet", 1.09), ("c.parquet", 1.10)):
        write_rates(landing, name, [(date(2024, 1, 2), "EUR", rate)])
        load_entity(conn, landing, RATES, now=NOW)

    assert [row[0] for row in loaded_rates(conn)] == ["fx/rates/a.parquet", "fx/rates/b.parquet", "fx/rates/c.parquet"]


def test_two_fx_rates_for_one_day_in_one_file_are_a_conflict(conn, landing):
    write_rates(landing, "2024-01.parquet", [(date(2024, 1, 2), "EUR", 1.10), (date(2024, 1, 2), "EUR", 1.09)])

    result = load_entity(conn, landing, RATES, now=NOW)

    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert quarantine(conn) == [(2, "rate_date=2024-01-02, currency=EUR", "conflicting_duplicate:rate_date,currency")]


def test_a_zero_fx_rate_is_quarantined(conn, landing):
    write_rates(landing, "2024-01.parquet", [(date(2024, 1, 2), "EUR", 0.0)])

    result = load_entity(conn, landing, RATES, now=NOW)

    assert result.rows_loaded == 0
    assert quarantine(conn) == [(1, "rate_date=2024-01-02, currency=EUR", "positive:rate_to_reporting")]


def test_a_stamped_source_still_refuses_a_second_content_under_a_loaded_version_key(conn, landing):
    write_csv(landing, OPPS, "2024-01.csv", [opp()])
    load_entity(conn, landing, OPPS, now=NOW)
    write_csv(landing, OPPS, "2024-02.csv", [opp(amount="1.00"), opp()])

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (0, 1, 1)
    assert quarantine(conn) == [(1, "opportunity_id=O1", "conflicting_duplicate:opportunity_id,last_modified")]


# ------------------------------------------------------------------------------ implausible business dates


def test_a_closed_deal_closing_after_its_last_change_is_quarantined(conn, landing):
    write_csv(
        landing,
        OPPS,
        "2024-02.csv",
        [
            opp(opportunity_id="O1", close_date="2204-02-10"),  # a mistyped year
            opp(opportunity_id="O2", close_date="2024-02-11"),  # within the one-day clock tolerance
            opp(opportunity_id="O3", close_date="2024-09-30", stage="Negotiation", is_closed="false", is_won="false"),
        ],
    )

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert quarantine(conn) == [(1, "opportunity_id=O1", "closed_not_after_last_modified:close_date")]


def test_an_fx_rate_resent_after_a_quarantined_delivery_loads_again_so_the_quarantine_resolves(conn, landing):
    write_rates(landing, "a.parquet", [(date(2024, 1, 2), "EUR", 1.10)])
    load_entity(conn, landing, RATES, now=NOW)
    write_rates(landing, "b.parquet", [(date(2024, 1, 2), "EUR", 0.0)])
    load_entity(conn, landing, RATES, now=datetime(2024, 3, 2))
    write_rates(landing, "c.parquet", [(date(2024, 1, 2), "EUR", 1.10)])

    result = load_entity(conn, landing, RATES, now=datetime(2024, 3, 3))

    assert (result.rows_loaded, result.rows_restated, result.rows_duplicate) == (1, 1, 0)
    assert [row[0] for row in loaded_rates(conn)] == ["fx/rates/a.parquet", "fx/rates/c.parquet"]
    write_rates(landing, "d.parquet", [(date(2024, 1, 2), "EUR", 1.10)])
    assert load_entity(conn, landing, RATES, now=datetime(2024, 3, 4)).rows_duplicate == 1, "no quarantine since"


# ------------------------------------------------------------------------------------- money bound (issue 15)


def test_an_amount_beyond_13_integer_digits_is_quarantined_with_its_key_and_the_largest_allowed_loads_exactly(
    conn, landing
):
    write_csv(
        landing,
        OPPS,
        "a.csv",
        [
            opp(opportunity_id="O1", amount="10000000000.00"),  # 10 billion IDR: an ordinary deal
            opp(opportunity_id="O2", amount="9999999999999.99"),  # the bound, MONEY_MAX
            opp(opportunity_id="O3", amount="10000000000000.00"),  # one cent above it
            opp(opportunity_id="O4", amount="99999999999999.99"),
        ],
    )

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.rows_loaded, result.rows_quarantined) == (2, 2)
    assert quarantine(conn) == [
        (3, "opportunity_id=O3", "max_value:amount"),
        (4, "opportunity_id=O4", "max_value:amount"),
    ]
    assert rows(conn, "SELECT opportunity_id, amount FROM raw.crm__opportunities ORDER BY 1") == [
        ("O1", Decimal("10000000000.00")),
        ("O2", Decimal("9999999999999.99")),
    ]
    assert rows(conn, "SELECT DISTINCT detail FROM raw._quarantine") == [
        ("absolute value above the contract bound of 9999999999999.99",)
    ]


def test_a_credit_note_beyond_the_money_bound_is_quarantined_and_a_json_number_at_the_bound_loads_exactly(
    conn, landing
):
    write_jsonl(
        landing,
        INVOICES,
        "a.jsonl",
        [
            invoice(invoice_id="I1", amount=9999999999999.99),  # a JSON number: read as a double, exact to the cent
            invoice(invoice_id="I2", amount="-9999999999999.99"),
            invoice(invoice_id="I3", amount="-10000000000000.00"),  # the bound is on the absolute value
        ],
    )

    result = load_entity(conn, landing, INVOICES, now=NOW)

    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert quarantine(conn) == [(3, "invoice_id=I3", "max_value:amount")]
    assert rows(conn, "SELECT invoice_id, amount FROM raw.billing__invoices ORDER BY 1") == [
        ("I1", Decimal("9999999999999.99")),
        ("I2", Decimal("-9999999999999.99")),
    ]


def test_every_money_column_of_the_contracts_is_bounded_to_13_integer_digits():
    money = {f"{c.name}.{col.name}": col.max_value for c in CONTRACTS for col in c.columns if col.type == MONEY}

    assert money == {
        "crm__opportunities.amount": Decimal("9999999999999.99"),
        "hr__workers.target_incentive_annual": Decimal("9999999999999.99"),
        "billing__subscriptions.recurring_amount": Decimal("9999999999999.99"),
        "billing__invoices.amount": Decimal("9999999999999.99"),
        "salesops__quotas.quota_amount": Decimal("9999999999999.99"),
    }


def test_max_value_on_a_text_column_is_a_contract_error(conn, landing):
    broken = dataclasses.replace(
        OPPS,
        columns=tuple(
            dataclasses.replace(col, max_value=Decimal(1)) if col.name == "currency" else col for col in OPPS.columns
        ),
    )
    write_csv(landing, OPPS, "a.csv", [opp()])

    with pytest.raises(ValueError, match=r"crm__opportunities\.currency: max_value on non-numeric type varchar"):
        load_entity(conn, landing, broken, now=NOW)


def test_a_spreadsheet_rounded_amount_in_scientific_notation_is_quarantined(conn, landing):
    write_csv(landing, OPPS, "2024-02.csv", [opp(opportunity_id="O1", amount="1.23457E+11"), opp(opportunity_id="O2")])

    result = load_entity(conn, landing, OPPS, now=NOW)

    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert quarantine(conn) == [(1, "opportunity_id=O1", "plain_number:amount")]


def test_an_fx_rate_in_exponent_form_from_a_machine_format_loads(conn, landing):
    write_rates(landing, "2024-01.parquet", [(date(2024, 1, 2), "IDR", 0.00006)])  # Parquet double -> '6e-05'

    result = load_entity(conn, landing, RATES, now=NOW)

    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    assert loaded_rates(conn)[0][3] == Decimal("0.00006000")


@pytest.mark.parametrize(
    ("entity", "row", "rule"),
    [
        (
            "hr__workers",
            {"effective_from": "2025-03-01", "effective_to": "2025-02-28"},
            "date_order:effective_from<=effective_to",
        ),
        (
            "hr__workers",
            {"hire_date": "2025-03-01", "termination_date": "2024-03-01"},
            "date_order:hire_date<=termination_date",
        ),
        ("hr__leaves", {"start_date": "2025-03-10", "end_date": "2025-03-01"}, "date_order:start_date<=end_date"),
    ],
)
def test_an_inverted_date_range_is_quarantined(conn, landing, entity, row, rule):
    c = contract(entity)
    base = {
        "hr__workers": {
            "employee_id": "E1",
            "full_name": "Ann",
            "job_role": "AE",
            "region": "NA",
            "pay_currency": "USD",
            "hire_date": "2024-01-01",
            "target_incentive_annual": "60000",
            "effective_from": "2024-01-01",
            "last_modified": "2024-01-01 00:00:00",
        },
        "hr__leaves": {
            "leave_id": "L1",
            "employee_id": "E1",
            "leave_type": "unpaid",
            "is_paid": "false",
            "start_date": "2024-02-01",
            "end_date": "2024-02-10",
            "last_modified": "2024-01-20 00:00:00",
        },
    }[entity]
    write_csv(landing, c, "x.csv", [base, {**base, **row, "last_modified": "2024-01-21 00:00:00"}])

    result = load_entity(conn, landing, c, now=NOW)

    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert [r for _, _, r in quarantine(conn)] == [rule]


def test_a_subscription_ending_before_it_starts_is_quarantined(conn, landing):
    c = contract("billing__subscriptions")
    sub = {
        "subscription_id": "SUB1",
        "customer_id": "C1",
        "crm_opportunity_id": None,
        "status": "canceled",
        "start_date": "2024-02-01",
        "end_date": "2024-01-31",
        "billing_interval": "month",
        "recurring_amount": 100.0,
        "currency": "USD",
        "last_modified": "2024-02-01T00:00:00Z",
    }
    write_jsonl(landing, c, "x.jsonl", [sub, {**sub, "subscription_id": "SUB2", "end_date": "2024-02-01"}])

    result = load_entity(conn, landing, c, now=NOW)

    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert quarantine(conn) == [(1, "subscription_id=SUB1", "date_order:start_date<=end_date")]
