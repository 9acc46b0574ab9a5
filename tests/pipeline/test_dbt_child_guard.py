"""A run killed during its dbt step: the orphaned dbt keeps every other writer out until it has stopped.

The real thing, as an OOM kill would do it: `spm publish` on a small company, SIGKILLed while its dbt build (a
child process started through `spm-dbt`) is running. The run's flock dies with it; the guard that remains is
the dbt process's own membership (orchestration/lib/run_lock.py). Slow: one pipeline run up to its dbt step.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
import pytest

from orchestration.lib.run_lock import WarehouseBusy, WarehouseRunLock

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def _dbt_children(parent: psutil.Process) -> list[psutil.Process]:
    found = []
    for child in parent.children(recursive=True):
        try:
            command = child.cmdline()
            # the launcher has exec'd dbt (it holds the members flock from then on)
            if len(command) > 1 and command[1].endswith("/dbt") and "build" in command:
                found.append(child)
        except psutil.Error:
            continue
    return found


def test_no_writer_gets_in_while_a_killed_runs_dbt_build_is_still_running(
    dbt_manifest, small_company_landing: Path, tmp_path: Path
):
    data_dir = tmp_path / "data"
    shutil.copytree(small_company_landing, data_dir / "landing")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "DAGSTER_HOME": str(REPO_ROOT),
        "SPM_DAGSTER_STORAGE_DIR": str(tmp_path / "dagster"),
        "SPM_DATA_DIR": str(data_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for name in ("SPM_WAREHOUSE_PATH", "SPM_SERVING_PATH", "SPM_LANDING_DIR"):
        env.pop(name, None)
    spm = str(Path(sys.executable).parent / "spm")
    run = subprocess.Popen(
        [spm, "publish", "2025-01", "2025-02"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    warehouse = data_dir / "warehouse.duckdb"
    try:
        parent = psutil.Process(run.pid)
        deadline = time.monotonic() + 300
        while not (children := _dbt_children(parent)):
            assert run.poll() is None, "the run ended before its dbt step started"
            assert time.monotonic() < deadline, "no dbt step within 5 minutes"
            time.sleep(0.1)
        dbt = children[0]

        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)

        assert dbt.is_running() and dbt.status() != psutil.STATUS_ZOMBIE, "dbt outlives its killed run"
        with pytest.raises(WarehouseBusy) as refused:
            WarehouseRunLock(warehouse, run_id="reopen-2025-01", job_name="spm reopen").acquire()
        assert f"pid {dbt.pid} started by an earlier run (its dbt build) is still running" in str(refused.value)

        dbt.wait(timeout=600)  # the orphaned build runs to its end (or fails) on its own
        lock = WarehouseRunLock(warehouse, run_id="reopen-2025-01", job_name="spm reopen")
        lock.acquire()
        lock.release()
        with duckdb.connect(str(warehouse)) as conn:  # and the file is usable by the next writer
            assert conn.execute("select count(*) from raw._loaded_files").fetchone()[0] > 0
    finally:
        run.kill()
        for child in psutil.Process().children(recursive=True):
            child.kill()
