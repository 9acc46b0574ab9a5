"""Read-only CLI commands never touch the warehouse a run may be writing: `spm summary` reads the serving file.

Run as people run it: the `spm` entry point in a subprocess, while another process holds the warehouse open
for writing (which makes DuckDB refuse every other process, readers included).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

SPM = str(Path(sys.executable).parent / "spm")
REPO = Path(__file__).resolve().parent.parent


def _serving_file(path: Path) -> None:
    """A serving file holding one published month (the tables and columns `spm summary` reads)."""
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            """
            create schema published; create schema audit;
            create table published.monthly_payouts as select * from (values
                ('E1', date '2025-01-01', 'USD', 1200.50::decimal(18,2)),
                ('E2', date '2025-01-01', 'EUR', 800.00::decimal(18,2))
            ) t(employee_id, payout_month, currency_code, net_payout_amount);
            create table published.commission_ledger as select 'L' || range as ledger_line_id from range(5);
            create table audit.publications as
                select 'run-1' as run_id, timestamp '2025-02-03 06:00:00' as published_at;
            create table audit.check_results as
                select 'run-1' as run_id, 'check_' || range as check_name, true as passed from range(3);
            """
        )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    _serving_file(data / "serving" / "spm.duckdb")
    return data


def _spm(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPM_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    env.pop("SPM_WAREHOUSE_PATH", None)
    env.pop("SPM_SERVING_PATH", None)
    return subprocess.run([SPM, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_summary_reads_the_serving_file_while_a_run_holds_the_warehouse(data_dir: Path):
    warehouse = data_dir / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, duckdb
                conn = duckdb.connect({str(warehouse)!r})
                conn.execute("create table if not exists t (x int)")
                print("holding", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException):  # the warehouse really is locked against other processes
            duckdb.connect(str(warehouse), read_only=True)

        results = [_spm(data_dir, "summary") for _ in range(7)]
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)

    for result in results:
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        assert "months published : 1 (2025-01 .. 2025-01)" in result.stdout
        assert "checks passed    : 3 of 3 blocking checks in the latest publication run" in result.stdout
        assert "Traceback" not in result.stdout


def test_summary_without_a_serving_file_says_how_to_get_one(tmp_path: Path):
    result = _spm(tmp_path / "empty", "summary")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"nothing published yet ({tmp_path / 'empty' / 'serving' / 'spm.duckdb'} does not exist): "
        "run `spm demo` or `spm close`"
    )
