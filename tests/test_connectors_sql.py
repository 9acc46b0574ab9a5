"""SQL-database connector (ingestion.connectors, dlt sql_table) against a real, throw-away PostgreSQL server.

The server is the one the engine-equivalence tests use (tests/engines/postgres.py), started once for this
module. Each test gets its own schema, landing folder and dlt state folder, so none depends on another.
"""

from __future__ import annotations

import itertools
import logging
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from engines.postgres import require_postgres_binaries, temporary_postgres

from ingestion.connectors import ConnectorError, SqlConnector, run_connector
from ingestion.contracts import contract
from ingestion.loader import load_all

OPPS = contract("crm__opportunities")
URL_ENV = "SPM_TEST_CRM_DB_URL"
REPO_ROOT = Path(__file__).resolve().parent.parent
_schemas = itertools.count(1)

DDL = """
create table {schema}.opportunity (
    opportunity_id text primary key,
    account_id text not null,
    owner_user_id text not null,
    opportunity_name text,
    opportunity_type text not null,
    stage text not null,
    amount numeric(18, 2) not null,
    currency text not null,
    created_date date not null,
    close_date date not null,
    is_closed boolean not null,
    is_won boolean not null,
    contract_term_months integer,
    last_modified timestamp not null
)"""


@pytest.fixture(scope="module")
def postgres():
    require_postgres_binaries()
    with temporary_postgres() as server:
        yield server


@pytest.fixture
def crm_db(postgres, monkeypatch):
    """A fresh schema holding an `opportunity` table; yields a function running SQL in it."""
    import psycopg2

    schema = f"crm{next(_schemas)}"
    url = f"postgresql+psycopg2://spm@/spm?host={postgres.socket_dir}&port={postgres.port}"
    monkeypatch.setenv(URL_ENV, url)
    conn = psycopg2.connect(postgres.dsn)
    conn.autocommit = True

    def sql(statement: str, params: tuple = ()) -> None:
        with conn.cursor() as cursor:
            cursor.execute(statement.format(schema=schema), params)

    sql(f"create schema {schema}")
    sql(DDL)
    sql.schema = schema  # type: ignore[attr-defined]
    yield sql
    conn.close()


def insert(sql, opportunity_id: str, last_modified: str, amount: str = "1000.50", stage: str = "Closed Won") -> None:
    sql(
        "insert into {schema}.opportunity values (%s, 'A1', 'U1', NULL, 'new', %s, %s, 'USD', '2025-01-05', "
        "'2025-01-31', true, %s, NULL, %s)",
        (opportunity_id, stage, amount, stage == "Closed Won", last_modified),
    )


def connector(schema: str, table: str = "opportunity", chunk_size: int = 1000) -> SqlConnector:
    return SqlConnector.model_validate(
        {
            "kind": "sql",
            "name": "crm_db",
            "source": "crm",
            "url_env": URL_ENV,
            "schema": schema,
            "chunk_size": chunk_size,
            "entities": [{"entity": "opportunities", "table": table, "cursor": "last_modified"}],
        }
    )


def landed_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file())


def test_table_lands_as_contract_csv_that_loads_typed_into_raw(crm_db, tmp_path):
    for n in range(1, 4):
        insert(crm_db, f"O{n}", f"2025-02-0{n} 09:30:00")

    result = run_connector(connector(crm_db.schema), tmp_path / "landing", tmp_path / "connectors")

    assert result.rows("crm__opportunities") == 3
    files = landed_files(tmp_path / "landing")
    assert [p.parent.relative_to(tmp_path / "landing").as_posix() for p in files] == ["crm/opportunities"]
    assert files[0].suffix == ".csv" and files[0].name.startswith("crm_db_")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        loaded = load_all(conn, tmp_path / "landing", [OPPS])["crm__opportunities"]
        assert (loaded.rows_loaded, loaded.rows_quarantined, loaded.unexpected_columns) == (3, 0, {})
        row = conn.execute(
            "select amount, is_won, opportunity_name, contract_term_months, last_modified "
            "from raw.crm__opportunities where opportunity_id = 'O2'"
        ).fetchone()
        assert str(row[0]) == "1000.50" and row[1] is True and row[2] is None and row[3] is None
        assert str(row[4]) == "2025-02-02 09:30:00"


def test_second_extract_in_a_new_process_lands_only_changed_rows(crm_db, tmp_path):
    landing, state = tmp_path / "landing", tmp_path / "connectors"
    for n in range(1, 4):
        insert(crm_db, f"O{n}", f"2025-02-0{n} 09:30:00")
    run_connector(connector(crm_db.schema), landing, state)
    crm_db(
        "update {schema}.opportunity set amount = 750, last_modified = '2025-03-01 08:00' where opportunity_id = 'O1'"
    )
    insert(crm_db, "O4", "2025-03-02 10:00:00", stage="Prospecting")

    # a new interpreter: the cursor must come from the state folder, not from memory
    script = (
        "import sys; from pathlib import Path; from ingestion.connectors import run_connector, SqlConnector; "
        "c = SqlConnector.model_validate_json(sys.argv[1]); "
        "r = run_connector(c, Path(sys.argv[2]), Path(sys.argv[3])); print(r.rows('crm__opportunities'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, connector(crm_db.schema).model_dump_json(by_alias=True), landing, state],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert done.stdout.strip() == "2"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        loaded = load_all(conn, landing, [OPPS])["crm__opportunities"]
        assert (len(loaded.files_loaded), loaded.rows_loaded, loaded.rows_duplicate) == (2, 5, 0)
        versions = conn.execute(
            "select amount from raw.crm__opportunities where opportunity_id = 'O1' order by last_modified"
        ).fetchall()
        assert [str(v) for (v,) in versions] == ["1000.50", "750.00"]


def test_extract_failing_midway_lands_nothing_and_keeps_the_cursor(crm_db, tmp_path):
    landing, state = tmp_path / "landing", tmp_path / "connectors"
    for n in range(1, 5):
        insert(crm_db, f"O{n}", f"2025-02-0{n} 09:30:00")
    # a view that errors on its third row: rows are streamed (server-side cursor) one per chunk, so two have
    # been extracted when it fails
    columns = (
        "opportunity_id, account_id, owner_user_id, opportunity_name, opportunity_type, stage, amount, "
        "currency, created_date, close_date, is_closed, is_won, last_modified"
    )
    crm_db(
        f"create view {{schema}}.opportunity_feed as select {columns}, "
        "(12 / (case when opportunity_id = 'O3' then 0 else 1 end))::integer as contract_term_months "
        "from {schema}.opportunity"
    )
    feed = connector(crm_db.schema, table="opportunity_feed", chunk_size=1)

    with pytest.raises(ConnectorError, match=r"connector crm_db \(crm__opportunities\): database error"):
        run_connector(feed, landing, state)
    assert landed_files(landing) == []

    crm_db(
        f"create or replace view {{schema}}.opportunity_feed as select {columns}, "
        "12 as contract_term_months from {schema}.opportunity"
    )
    assert run_connector(feed, landing, state).rows("crm__opportunities") == 4


def test_parquet_contract_lands_as_parquet_with_database_types(crm_db, tmp_path):
    crm_db("create table {schema}.daily_rate (rate_date date, currency text, rate_to_reporting numeric(18, 8))")
    crm_db(
        "insert into {schema}.daily_rate values ('2025-01-02', 'EUR', 1.03456789), ('2025-01-02', 'GBP', 1.25), "
        "('2024-12-31', 'EUR', 1.01)"  # before initial_value: never extracted
    )
    rates = SqlConnector.model_validate(
        {
            "kind": "sql",
            "name": "fx_db",
            "source": "fx",
            "url_env": URL_ENV,
            "schema": crm_db.schema,
            "entities": [
                {"entity": "rates", "table": "daily_rate", "cursor": "rate_date", "initial_value": "2025-01-02"}
            ],
        }
    )

    run_connector(rates, tmp_path / "landing", tmp_path / "connectors")

    (landed,) = landed_files(tmp_path / "landing")
    assert landed.relative_to(tmp_path / "landing").parent.as_posix() == "fx/rates" and landed.suffix == ".parquet"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        loaded = load_all(conn, tmp_path / "landing", [contract("fx__rates")])["fx__rates"]
        assert (loaded.rows_loaded, loaded.unexpected_columns) == (2, {})
        (rate,) = conn.execute("select rate_to_reporting from raw.fx__rates where currency = 'EUR'").fetchone()
        assert str(rate) == "1.03456789"


def test_unreachable_database_fails_clearly_without_the_password(tmp_path, monkeypatch, caplog, capfd):
    monkeypatch.setenv(URL_ENV, "postgresql+psycopg2://spm:pw-Zq81x@127.0.0.1:1/spm?connect_timeout=2")
    caplog.set_level(logging.INFO)

    with pytest.raises(ConnectorError, match=r"crm_db \(crm__opportunities\): database error OperationalError") as e:
        run_connector(connector("crm"), tmp_path / "landing", tmp_path / "connectors")
    assert "pw-Zq81x" not in str(e.value)
    assert "crm_db" in caplog.text and "pw-Zq81x" not in caplog.text + "".join(capfd.readouterr())
    assert not (tmp_path / "landing").exists() or landed_files(tmp_path / "landing") == []


def test_missing_url_variable_is_named_in_the_error(tmp_path, monkeypatch):
    monkeypatch.delenv(URL_ENV, raising=False)
    with pytest.raises(ValueError, match=f"environment variable {URL_ENV} is not set"):
        run_connector(connector("crm"), tmp_path / "landing", tmp_path / "connectors")
