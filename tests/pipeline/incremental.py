"""Incremental runs must compute exactly what a full rebuild computes.

The engine's incremental models (macros/incremental_rebuild.sql) keep the months no unseen load can change and
recompute the rest. After a sequence of real runs, this rebuilds those models from scratch in a copy of the
warehouse (`dbt run --full-refresh`) and requires every row of every one of them to be the same.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

INCREMENTAL_ENGINE_MODELS = (
    "intermediate.int_commission_evaluation_credits",
    "intermediate.int_segment_attainment",
    "intermediate.int_commission_evaluation_amounts",
    "intermediate.int_commission_entries",
    "intermediate.int_ledger_lines",
    "intermediate.int_payout_input_fingerprints",
)


def assert_incremental_models_match_full_rebuild(warehouse: Path, workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    rebuilt = workdir / "full_rebuild.duckdb"
    shutil.copyfile(warehouse, rebuilt)
    models = " ".join(name.split(".")[1] for name in INCREMENTAL_ENGINE_MODELS)
    subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--quiet",
            "--full-refresh",
            "--select",
            models,
            "--target-path",
            str(workdir / "full_rebuild_target"),
            "--log-path",
            str(workdir / "full_rebuild_logs"),
        ],
        cwd=DBT_PROJECT_DIR,
        check=True,
        env={**os.environ, "SPM_WAREHOUSE_PATH": str(rebuilt), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute(f"attach '{rebuilt}' as rebuilt (read_only)")
        for table in INCREMENTAL_ENGINE_MODELS:
            only_incremental, only_rebuilt = (
                conn.execute(f"select count(*) from (select * from {a} except all select * from {b})").fetchone()[0]
                for a, b in ((table, f"rebuilt.{table}"), (f"rebuilt.{table}", table))
            )
            assert (only_incremental, only_rebuilt) == (0, 0), (
                f"{table}: {only_incremental} rows only in the incremental build, {only_rebuilt} only in a full rebuild"
            )
