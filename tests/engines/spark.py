"""A throw-away local Spark warehouse for the engine-equivalence tests, and copying a raw layer into it.

The dbt `spark` target runs Spark in session mode: pyspark starts a local JVM inside the dbt process, with an
embedded Derby metastore and Parquet tables under `SPM_SPARK_WAREHOUSE_DIR` (see dbt_project/profiles.yml). A
test gives every warehouse its own temporary directory, so there are no ports to collide on (the Spark UI is off,
the driver binds to 127.0.0.1) and no Derby lock is shared between tests.

Embedded Derby allows one process at a time, so every step that opens the warehouse is its own process, one
after the other: copying the raw layer (`python spark.py copy-raw`), `dbt build`, reading the marts back
(`python spark.py dump`). Each uses the Spark settings of the profile (rendered from profiles.yml, so they
cannot drift apart).

Only the dbt models are engine-portable: ingestion writes the raw layer to DuckDB. The raw copy exports each
DuckDB `raw` table to Parquet and inserts it into a Spark table declared with the exact column types.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import jinja2
import yaml

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

_DUCKDB_TO_SPARK = {
    "VARCHAR": "string",
    "DATE": "date",
    # the raw layer's timestamps are naive; the profile sets the Spark session time zone to UTC
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "BOOLEAN": "boolean",
    "DOUBLE": "double",
}


def missing_requirement() -> str | None:
    """Why Spark cannot start here, or None."""
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        return "no Java runtime for Spark (Debian package openjdk-17-jre-headless; `make services` installs it)"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (requirements.lock)"
    return None


def spark_settings(warehouse_dir: Path) -> dict[str, str]:
    """The `spark` target's Spark settings (profiles.yml `server_side_parameters`) for a warehouse directory."""
    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    env = {**os.environ, "SPM_SPARK_WAREHOUSE_DIR": str(warehouse_dir)}
    rendered = jinja2.Template(profile).render(env_var=lambda name, default=None: env.get(name, default))
    settings = yaml.safe_load(rendered)["spm"]["outputs"]["spark"]["server_side_parameters"]
    return {str(k): str(v) for k, v in settings.items()}


def dbt_env(warehouse_dir: Path) -> dict[str, str]:
    """What profiles.yml's `spark` target reads."""
    return {"SPM_DBT_TARGET": "spark", "SPM_SPARK_WAREHOUSE_DIR": str(warehouse_dir)}


def _session(warehouse_dir: Path):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_settings(warehouse_dir).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _spark_type(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.lower()
    return _DUCKDB_TO_SPARK[duckdb_type]


def _copy_raw_layer(duckdb_path: Path, warehouse_dir: Path) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="spm-raw-parquet-"))
    spark = _session(warehouse_dir)
    try:
        spark.sql("create database if not exists raw")
        with duckdb.connect(str(duckdb_path), read_only=True) as source:
            tables = [
                r[0]
                for r in source.execute(
                    "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
                ).fetchall()
            ]
            for table in tables:
                columns = source.execute(
                    """select column_name, data_type from information_schema.columns
                       where table_schema = 'raw' and table_name = ? order by ordinal_position""",
                    [table],
                ).fetchall()
                parquet = workdir / f"table-{table}.parquet"  # Spark skips files whose name starts with _
                source.execute(f"copy raw.\"{table}\" to '{parquet}' (format parquet)")
                ddl = ", ".join(f"`{name}` {_spark_type(dtype)}" for name, dtype in columns)
                spark.sql(f"drop table if exists raw.`{table}`")
                spark.sql(f"create table raw.`{table}` ({ddl}) using parquet")
                select = ", ".join(f"cast(`{name}` as {_spark_type(dtype)})" for name, dtype in columns)
                spark.sql(f"insert into raw.`{table}` select {select} from parquet.`{parquet}`")
        return len(tables)
    finally:
        spark.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _dump(warehouse_dir: Path, tables: list[str], out: Path) -> None:
    """Every row of each table as text by column name (None stays None), as JSON."""
    spark = _session(warehouse_dir)
    dumped = {}
    for table in tables:
        frame = spark.table(table)
        dumped[table] = [
            {name: None if value is None else str(value) for name, value in row.asDict().items()}
            for row in frame.collect()
        ]
    spark.stop()
    out.write_text(json.dumps(dumped))


def _run_here(*args: str) -> None:
    """Run this file as a script in a fresh Python process (its own JVM and Derby connection)."""
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    proc = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:1])} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")


def copy_raw_layer(duckdb_path: Path, warehouse_dir: Path) -> int:
    """Copy every table of the DuckDB warehouse's `raw` schema into the Spark warehouse; returns the number of
    tables copied."""
    marker = warehouse_dir / "raw_tables.json"
    _run_here("copy-raw", str(duckdb_path), str(warehouse_dir), str(marker))
    return json.loads(marker.read_text())["tables"]


def read_tables(warehouse_dir: Path, tables: list[str]) -> dict[str, list[dict[str, str | None]]]:
    """The rows of `tables` (qualified names) in the Spark warehouse, every value as text."""
    out = warehouse_dir / "dump.json"
    _run_here("dump", str(warehouse_dir), str(out), *tables)
    return json.loads(out.read_text())


def dbt(workdir: Path, env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """A dbt command (`build ...`, `run ...`) on the project with its own target and log folders; `env` picks the
    target (`dbt_env` for Spark)."""
    command = [
        str(Path(sys.executable).parent / "dbt"), *arguments,
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(workdir / "dbt_target"), "--log-path", str(workdir / "dbt_logs"),
    ]  # fmt: skip
    full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_PARTIAL_PARSE": "false", **env}
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, env=full_env, capture_output=True, text=True, check=False)


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "copy-raw":
        count = _copy_raw_layer(Path(arguments[0]), Path(arguments[1]))
        Path(arguments[2]).write_text(json.dumps({"tables": count}))
    elif command == "dump":
        _dump(Path(arguments[0]), arguments[2:], Path(arguments[1]))
    else:
        raise SystemExit(f"unknown command {command!r}")
