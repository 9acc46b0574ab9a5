"""The BI serving file is replaced atomically: open readers keep their snapshot, new readers see the new one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.publication.publish import refresh_serving_database

FRESH_READER = """
import sys, duckdb
with duckdb.connect(sys.argv[1], read_only=True) as conn:
    print(conn.execute("select net from published.monthly_payouts").fetchone()[0])
    for (name,) in conn.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall():
        print(name)
"""


def _warehouse(path: Path, payout: str) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path))
    conn.execute("create schema if not exists published; create schema if not exists marts")
    conn.execute(f"create or replace table published.monthly_payouts as select 'E1' as employee_id, {payout} as net")
    conn.execute("create or replace table marts.fct_monthly_payouts as select 'preview' as employee_id")
    conn.execute("create or replace table marts.fct_attainment as select 'E1' as employee_id, 0.5 as attainment")
    return conn


def test_reader_of_old_serving_file_is_not_blocked_and_keeps_its_snapshot(tmp_path: Path):
    serving = tmp_path / "serving" / "spm.duckdb"
    warehouse = _warehouse(tmp_path / "warehouse.duckdb", "100.00")
    refresh_serving_database(warehouse, serving)

    reader = duckdb.connect(str(serving), read_only=True)
    assert reader.execute("select net from published.monthly_payouts").fetchone()[0] == 100

    warehouse.execute("update published.monthly_payouts set net = 250.00")
    refresh_serving_database(warehouse, serving)  # must not wait for, or break, the open reader

    assert reader.execute("select net from published.monthly_payouts").fetchone()[0] == 100
    # A new BI connection is another process (DuckDB caches open databases per process and path).
    fresh = subprocess.run(
        [sys.executable, "-c", FRESH_READER, str(serving)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert fresh[0] == "250.00"
    tables = set(fresh[1:])
    assert "marts.fct_attainment" in tables
    assert "marts.fct_monthly_payouts" not in tables, "unpublished previews never reach BI"
    assert list(serving.parent.glob(".*.tmp")) == []
    reader.close()


def test_serving_file_is_stale_until_refreshed_and_a_killed_refresh_leaves_nothing_behind(tmp_path: Path):
    """A run killed between the publication commit and the serving swap leaves the serving file behind the
    warehouse; `serving_is_current` notices (so a rerun refreshes it), and the next refresh removes the
    half-written copy the killed run left."""
    from orchestration.publication.publish import serving_is_current

    serving = tmp_path / "serving" / "spm.duckdb"
    warehouse = _warehouse(tmp_path / "warehouse.duckdb", "100.00")
    warehouse.execute("create schema if not exists audit")
    warehouse.execute("create table audit.publications as select 'p1' as publication_id")
    assert not serving_is_current(warehouse, serving)
    refresh_serving_database(warehouse, serving)
    assert serving_is_current(warehouse, serving)

    warehouse.execute("insert into audit.publications values ('p2')")  # committed; the swap never happened
    leftover = serving.with_name(f".{serving.name}.20250101000000000000.tmp")
    leftover.write_bytes(b"half a database")
    assert not serving_is_current(warehouse, serving)
    refresh_serving_database(warehouse, serving)
    assert serving_is_current(warehouse, serving)
    assert list(serving.parent.glob(".*.tmp")) == []
