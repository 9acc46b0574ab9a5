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
