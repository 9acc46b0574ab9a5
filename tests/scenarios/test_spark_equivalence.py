"""The same dbt models on Apache Spark give the same payouts as on DuckDB, to the cent.

Spark runs in dbt-spark's session mode (a local Spark inside the dbt process, Parquet tables, an embedded Derby
metastore in a temporary folder; `SPM_DBT_TARGET=spark`). The companies are the ones of the PostgreSQL test: the
scenario library (every rule of the engine) and the small generated company (24 payees, three months). Each is
loaded once with the project's loaders into DuckDB, its raw layer copied to Spark, and the dbt project built on
both; the six marts finance and BI read must be identical row for row, explanation sentences included.

The generated company also exercises the incremental path Spark needs its own SQL for: both engines build with a
fixed run id and then rebuild the month-partitioned models for a two-month window with the same run id (DuckDB
deletes the window's rows, Spark drops the window's partitions), and the run history fct_payout_runs must still
hold exactly one row per payee-month, identical on both (except the run start time).

Cost: 6.5-7.5 minutes measured on the 2-core reference machine while other heavy jobs ran on it (less alone):
three Spark JVM starts and one dbt invocation per company plus one windowed rerun; a Spark dbt build is almost all
per-statement overhead, not data. The library runs models only (`dbt run`), the generated company `dbt build`.
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from engines import COMPARED_MARTS
from engines.spark import copy_raw_layer, dbt, dbt_env, missing_requirement, read_tables

from .harness import Warehouse

pytestmark = pytest.mark.slow

RUN_ID = "engine-equivalence"


@pytest.fixture(scope="module")
def spark_ready() -> None:
    missing = missing_requirement()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"Spark cannot start: {missing}")
        pytest.skip(missing)


def _text(value: object) -> str:
    return "<null>" if value is None else str(value)


def _assert_same_marts(duckdb_path: Path, spark_dir: Path, tables: dict[str, tuple[str, ...]]) -> None:
    """Rows as text, sorted, columns by name (Spark moves partition columns to the end of a table); `tables` maps
    each table to the columns left out of the comparison."""
    in_spark = read_tables(spark_dir, list(tables))
    with duckdb.connect(str(duckdb_path), read_only=True) as d:
        for table, ignore in tables.items():
            cursor = d.execute(f"select * from {table}")
            names = [c[0] for c in cursor.description]
            columns = [name for name in names if name not in ignore]
            duckdb_rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
            in_duckdb = sorted(tuple(_text(row[name]) for name in columns) for row in duckdb_rows)
            assert in_duckdb, f"{table} is empty: the comparison would prove nothing"
            spark_rows = in_spark[table]
            assert set(spark_rows[0]) == set(names), f"{table}: the columns differ"
            in_spark_rows = sorted(tuple(_text(row[name]) for name in columns) for row in spark_rows)
            only_duckdb = sorted(set(in_duckdb) - set(in_spark_rows))[:3]
            only_spark = sorted(set(in_spark_rows) - set(in_duckdb))[:3]
            assert in_duckdb == in_spark_rows, f"{table} differs: DuckDB only {only_duckdb}, Spark only {only_spark}"


def _ok(result) -> None:
    assert result.returncode == 0, result.stdout[-4000:]


def test_scenario_library_pays_the_same_on_spark_as_on_duckdb(scenario_warehouse: Warehouse, spark_ready, tmp_path):
    """Models only (`dbt run`): the data tests' SQL runs on Spark in the generated company's build below, and
    on the library they would only re-check rows this test requires to equal DuckDB's, where they passed."""
    assert scenario_warehouse.dbt_returncode == 0, scenario_warehouse.dbt_log_tail
    spark_dir = tmp_path / "spark"
    assert copy_raw_layer(scenario_warehouse.path, spark_dir) > 10
    _ok(dbt(tmp_path / "dbt", dbt_env(spark_dir), "run"))
    _assert_same_marts(scenario_warehouse.path, spark_dir, dict.fromkeys(COMPARED_MARTS, ()))


def test_generated_company_pays_the_same_on_spark_as_on_duckdb(small_company_landing: Path, spark_ready, tmp_path):
    from ingestion.loader import load_all
    from ingestion.plans import load_plans

    warehouse, spark_dir, landing = tmp_path / "warehouse.duckdb", tmp_path / "spark", tmp_path / "landing"
    shutil.copytree(small_company_landing, landing)
    with duckdb.connect(str(warehouse)) as conn:
        load_all(conn, landing)
        load_plans(conn, Path(__file__).resolve().parents[2] / "plans")
    raw_only = shutil.copy(warehouse, tmp_path / "raw_only.duckdb")  # read by the copy while dbt writes warehouse

    full = json.dumps({"spm_run_id": RUN_ID})
    window = json.dumps(
        {"spm_run_id": RUN_ID, "partition_start_month": "2025-02-01", "partition_end_month": "2025-03-01"}
    )
    engines = {
        "duckdb": {"SPM_DBT_TARGET": "duckdb", "SPM_WAREHOUSE_PATH": str(warehouse)},
        "spark": dbt_env(spark_dir),
    }
    with ThreadPoolExecutor(max_workers=1) as pool:
        copied = pool.submit(copy_raw_layer, Path(raw_only), spark_dir)  # a Spark process, while DuckDB builds
        for name, env in engines.items():
            if name == "spark":
                assert copied.result() > 10
            _ok(dbt(tmp_path / name, env, "build", "--exclude-resource-type", "unit_test", "--vars", full))
            _ok(dbt(tmp_path / name, env, "run", "--select", "tag:monthly_partitioned", "--vars", window))

    # the rerun replaced its own rows of the window on both engines (fct_payout_runs keeps one row per payee-month
    # of this run id); the run start time is the only column that differs between two runs
    compared = {**dict.fromkeys(COMPARED_MARTS, ()), "marts.fct_payout_runs": ("run_started_at",)}
    _assert_same_marts(warehouse, spark_dir, compared)
    with duckdb.connect(str(warehouse), read_only=True) as d:
        runs, payouts = d.execute(
            "select (select count(*) from marts.fct_payout_runs), (select count(*) from marts.fct_monthly_payouts)"
        ).fetchone()
    assert runs == payouts
