"""A throw-away PostgreSQL server for the engine-equivalence tests, and copying a raw layer into it.

The server is the Debian `postgresql` package's binaries (installed by .ci/run when missing), run from a
temporary data directory on a free port with a Unix socket only; it is stopped and deleted afterwards. Under
root (CI containers) it runs as the `postgres` system user, because PostgreSQL refuses to run as root.

Only the dbt models are engine-portable: ingestion writes the raw layer to DuckDB. The tests therefore load a
company with the project's own loaders into DuckDB, copy the `raw` schema table by table into PostgreSQL (exact
types, CSV through COPY), and build the same dbt project on both.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

DATABASE = "spm"
USER = "spm"

_DUCKDB_TO_POSTGRES = {
    "VARCHAR": "text",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "DOUBLE": "double precision",
}


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: Path
    port: int

    @property
    def dsn(self) -> str:
        return f"host={self.socket_dir} port={self.port} user={USER} dbname={DATABASE}"

    def dbt_env(self) -> dict[str, str]:
        """What profiles.yml's `postgres` target reads."""
        return {
            "SPM_DBT_TARGET": "postgres",
            "SPM_PG_HOST": str(self.socket_dir),
            "SPM_PG_PORT": str(self.port),
            "SPM_PG_USER": USER,
            "SPM_PG_DATABASE": DATABASE,
        }


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server binaries, or None."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent  # /usr/local/bin may hold symlinks to a few of them only
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def require_postgres_binaries() -> None:
    """Skip a test that needs a PostgreSQL server when its binaries are missing; in CI, fail instead: .ci/run
    installs them, so their absence there is a broken set-up, not an optional feature."""
    import pytest

    if postgres_bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries missing: .ci/run installs the Debian package `postgresql`")
        pytest.skip("PostgreSQL server binaries not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def temporary_postgres() -> Iterator[PostgresServer]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL server binaries not found (Debian package `postgresql`)")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="spm-pg-"))
    root.chmod(0o777)
    if as_postgres:
        shutil.chown(root, user="postgres")
    data, port = root / "data", _free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_postgres, *command], check=True, capture_output=True, text=True)

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", USER, "--encoding", "UTF8")
        run(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60",
            "-o", f"-p {port} -k {root} -c listen_addresses='' -c fsync=off", "start",
        )  # fmt: skip
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", str(root), "-p", str(port), "-U", USER, DATABASE],
            check=True,
            capture_output=True,
        )
        yield PostgresServer(socket_dir=root, port=port)
    finally:
        subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def copy_raw_layer(warehouse: Path, server: PostgresServer) -> int:
    """Copy every table of the DuckDB warehouse's `raw` schema into PostgreSQL; returns the number of tables."""
    import psycopg2

    workdir = Path(tempfile.mkdtemp(prefix="spm-raw-"))
    try:
        with duckdb.connect(str(warehouse), read_only=True) as source, psycopg2.connect(server.dsn) as target:
            cursor = target.cursor()
            cursor.execute("drop schema if exists raw cascade; create schema raw")
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
                ddl = ", ".join(
                    f'"{name}" {_DUCKDB_TO_POSTGRES.get(dtype, dtype.replace("DECIMAL", "numeric"))}'
                    for name, dtype in columns
                )
                cursor.execute(f'create table raw."{table}" ({ddl})')
                csv_path = workdir / f"{table}.csv"
                source.execute(f"copy raw.\"{table}\" to '{csv_path}' (header false)")
                with csv_path.open() as f:
                    cursor.copy_expert(f'copy raw."{table}" from stdin with (format csv)', f)
        return len(tables)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def dbt_build(workdir: Path, env: dict[str, str], extra_args: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """`dbt build` of the project (models and data tests, no unit tests) with its own target and log folders;
    `extra_args` narrows it (`--select ...`, `--full-refresh`)."""
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    command = [
        str(Path(sys.executable).parent / "dbt"), "build", "--exclude-resource-type", "unit_test",
        "--project-dir", str(project), "--profiles-dir", str(project),
        "--target-path", str(workdir / "dbt_target"), "--log-path", str(workdir / "dbt_logs"), *extra_args,
    ]  # fmt: skip
    full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_PARTIAL_PARSE": "false", **env}
    return subprocess.run(command, cwd=project, env=full_env, capture_output=True, text=True, check=False)
