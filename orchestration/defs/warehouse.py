"""dbt models as Dagster assets, with dbt tests as asset checks.

Two selections over one manifest:
  * `spm_dbt_models`: staging, intermediate and the unpartitioned marts. Most are rebuilt in full; the engine's
    expensive intermediate models are incremental and recompute from the run's first month, or from the first
    month new data can change if that is earlier (docs/incremental.md), so they get the run's window;
  * `spm_dbt_monthly_models`: models tagged `monthly_partitioned` (ledger, payouts, run history), incremental
    per month; they get the run's partition window, run id and code version, and a backfill of many months is
    one run.
The run's settings reach dbt as environment variables, not --vars, and each invocation's parse is kept for the
next one (orchestration/lib/dbt_runs.py): this keeps dbt from re-parsing the whole project twice a run.
Both write the DuckDB file, so both are in the single-slot writer pool and require `run_lock` (the run holds the
warehouse lock while dbt writes).
"""

from collections.abc import Iterator, Mapping
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtCliRuntimeError, DbtCliResource, dbt_assets

from orchestration.defs.ingestion import WRITER_POOL
from orchestration.lib.dbt import spm_dbt_project, translator
from orchestration.lib.dbt_failures import dbt_failures
from orchestration.lib.dbt_runs import engine_fault, keep_partial_parse, run_settings_in_environment
from orchestration.lib.partitions import dbt_settings_for_run_tags, dbt_settings_for_window, monthly_partitions
from orchestration.lib.run_lock import RunLockResource
from orchestration.lib.run_members import members_in_environment
from orchestration.lib.warehouse import WarehouseResource
from orchestration.publication.publish import code_version

MONTHLY_TAG = "tag:monthly_partitioned"
BUILD = ["build", "--exclude-resource-type", "unit_test"]
"""Pipeline runs build models and run data tests; dbt unit tests check SQL logic on fixed inputs, not data, so
CI runs them (`dbt test --select test_type:unit`) and a nightly run does not pay their ~6 s."""


ENGINE_FAULT_RETRIES = 2
"""Step retries after a failure inside the database engine itself (orchestration/lib/dbt_runs.py); an error in
the SQL, a failed data test or bad data fails the step at once."""


def _build(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, settings: Mapping[str, str]
) -> Iterator:
    # dbt's process starts inside dbt.cli; it joins the run's writer guard (orchestration/lib/run_lock.py)
    with run_settings_in_environment(settings), members_in_environment(warehouse.path):
        invocation = dbt.cli(BUILD, context=context)
    try:
        yield from invocation.stream()
    except DagsterDbtCliRuntimeError as error:
        fault = engine_fault(invocation.target_path)
        if fault is None:
            # name what failed, with sample keys for failed tests, where operators look (summary, alert)
            failures = dbt_failures(invocation.target_path, Path(warehouse.path), spm_dbt_project.manifest_path)
            if not failures:
                raise
            raise dg.Failure(
                description="dbt build failed:\n" + "\n".join(f"  - {f.description}" for f in failures)
            ) from error
        context.log.warning(f"dbt failed inside the database engine; the step runs again: {fault}")
        raise dg.RetryRequested(max_retries=ENGINE_FAULT_RETRIES, seconds_to_wait=5) from None
    finally:
        keep_partial_parse(invocation.target_path, spm_dbt_project.project_dir / "target")


@dbt_assets(
    manifest=spm_dbt_project.manifest_path,
    exclude=MONTHLY_TAG,
    name="spm_dbt_models",
    dagster_dbt_translator=translator,
    project=spm_dbt_project,
    pool=WRITER_POOL,
)
def spm_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    run_lock: RunLockResource,  # unused: requiring it makes the run hold the warehouse lock
):
    # the run's months and code version: the incremental engine models recompute at least those months, and
    # everything after code changes (macros/incremental_rebuild.sql)
    settings = {**dbt_settings_for_run_tags(context.run.tags), "spm_code_version": code_version()}
    context.log.info(f"building models with {settings}")
    yield from _build(context, dbt, warehouse, settings)


@dbt_assets(
    manifest=spm_dbt_project.manifest_path,
    select=MONTHLY_TAG,
    name="spm_dbt_monthly_models",
    dagster_dbt_translator=translator,
    project=spm_dbt_project,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WRITER_POOL,
)
def spm_dbt_monthly_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    run_lock: RunLockResource,  # unused: requiring it makes the run hold the warehouse lock
):
    window = context.partition_time_window
    # the run history (fct_payout_runs) records which run and which code computed each month
    settings = {
        **dbt_settings_for_window(window.start, window.end),
        "spm_run_id": context.run_id,
        "spm_code_version": code_version(),
    }
    context.log.info(f"building monthly models for {settings}")
    yield from _build(context, dbt, warehouse, settings)
