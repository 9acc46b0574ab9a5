"""The same dbt models on PostgreSQL give the same payouts as on DuckDB, to the cent.

Two companies: the scenario library (every rule of the engine: tiers, thresholds, caps, splits, roll-ups, pay
on invoice, clawbacks, draws, FX policies, plan and currency changes) and the small generated company. Each is
loaded once with the project's loaders into DuckDB, its raw layer copied to a throw-away PostgreSQL server, and
the dbt project built on both; the marts finance and BI read must be identical row for row, explanation
sentences included. Switching engines is a dbt target (`SPM_DBT_TARGET=postgres`), not a code change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from engines import COMPARED_MARTS
from engines.postgres import copy_raw_layer, dbt_build, require_postgres_binaries, temporary_postgres

from .harness import Warehouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def postgres():
    require_postgres_binaries()
    with temporary_postgres() as server:
        yield server


def _rows(fetch, table: str) -> list[tuple[str, ...]]:
    """Rows as text, sorted: DuckDB and psycopg2 return the same values as different Python types."""
    return sorted(tuple("<null>" if v is None else str(v) for v in row) for row in fetch(f"select * from {table}"))


def _assert_same_marts(duckdb_path: Path, postgres) -> None:
    import psycopg2

    with duckdb.connect(str(duckdb_path), read_only=True) as d, psycopg2.connect(postgres.dsn) as pg:
        cursor = pg.cursor()

        def fetch_pg(sql: str) -> list[tuple]:
            cursor.execute(sql)
            return cursor.fetchall()

        for table in COMPARED_MARTS:
            in_duckdb, in_postgres = _rows(lambda sql: d.execute(sql).fetchall(), table), _rows(fetch_pg, table)
            assert in_duckdb, f"{table} is empty: the comparison would prove nothing"
            only_duckdb = sorted(set(in_duckdb) - set(in_postgres))[:3]
            only_postgres = sorted(set(in_postgres) - set(in_duckdb))[:3]
            assert in_duckdb == in_postgres, (
                f"{table} differs: DuckDB only {only_duckdb}, PostgreSQL only {only_postgres}"
            )


def _build_on_postgres(duckdb_path: Path, postgres, workdir: Path) -> None:
    assert copy_raw_layer(duckdb_path, postgres) > 10
    built = dbt_build(workdir, postgres.dbt_env())
    assert built.returncode == 0, built.stdout[-4000:]


def test_scenario_library_pays_the_same_on_postgres_as_on_duckdb(scenario_warehouse: Warehouse, postgres, tmp_path):
    assert scenario_warehouse.dbt_returncode == 0, scenario_warehouse.dbt_log_tail
    _build_on_postgres(scenario_warehouse.path, postgres, tmp_path)
    _assert_same_marts(scenario_warehouse.path, postgres)


def test_generated_company_pays_the_same_on_postgres_as_on_duckdb(small_company_landing: Path, postgres, tmp_path):
    from ingestion.loader import load_all
    from ingestion.plans import load_plans

    warehouse = tmp_path / "warehouse.duckdb"
    landing = tmp_path / "landing"
    shutil.copytree(small_company_landing, landing)
    with duckdb.connect(str(warehouse)) as conn:
        load_all(conn, landing)
        load_plans(conn, Path(__file__).resolve().parents[2] / "plans")
    built = dbt_build(tmp_path / "duckdb", {"SPM_WAREHOUSE_PATH": str(warehouse), "SPM_DBT_TARGET": "duckdb"})
    assert built.returncode == 0, built.stdout[-4000:]
    _build_on_postgres(warehouse, postgres, tmp_path / "postgres")
    _assert_same_marts(warehouse, postgres)
