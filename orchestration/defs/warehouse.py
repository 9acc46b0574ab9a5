"""dbt models as Dagster assets, with dbt tests as asset checks.

Two selections over one manifest:
  * `spm_dbt_models`: staging, intermediate and the unpartitioned marts. Most are rebuilt in full; the engine's
    expensive intermediate models are incremental and recompute from the run's first month, or from the first
    month new data can change if that is earlier (docs/incremental.md), so they get the run's window as vars;
  * `spm_dbt_monthly_models`: models tagged `monthly_partitioned` (ledger, payouts, run history), incremental
    per month; the run's partition window, run id and code version are passed to dbt as vars, and a backfill
    of many months is one run.
Both write the DuckDB file, so both are in the single-slot writer pool and require `run_lock` (the run holds the
warehouse lock while dbt writes).
"""

import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.ingestion import WRITER_POOL
from orchestration.lib.dbt import spm_dbt_project, translator
from orchestration.lib.partitions import dbt_vars_for_run_tags, dbt_vars_for_window, monthly_partitions
from orchestration.lib.run_lock import RunLockResource
from orchestration.publication.publish import code_version

MONTHLY_TAG = "tag:monthly_partitioned"
BUILD = ["build", "--exclude-resource-type", "unit_test"]
"""Pipeline runs build models and run data tests; dbt unit tests check SQL logic on fixed inputs, not data, so
CI runs them (`dbt test --select test_type:unit`) and a nightly run does not pay their ~6 s."""


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
    run_lock: RunLockResource,  # unused: requiring it makes the run hold the warehouse lock
):
    # the run's months and code version: the incremental engine models recompute at least those months, and
    # everything after code changes (macros/incremental_rebuild.sql)
    dbt_vars = {**dbt_vars_for_run_tags(context.run.tags), "spm_code_version": code_version()}
    context.log.info(f"building models with {dbt_vars}")
    yield from dbt.cli([*BUILD, "--vars", json.dumps(dbt_vars)], context=context).stream()


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
    run_lock: RunLockResource,  # unused: requiring it makes the run hold the warehouse lock
):
    window = context.partition_time_window
    # the run history (fct_payout_runs) records which run and which code computed each month
    dbt_vars = {
        **dbt_vars_for_window(window.start, window.end),
        "spm_run_id": context.run_id,
        "spm_code_version": code_version(),
    }
    context.log.info(f"building monthly models for {dbt_vars}")
    yield from dbt.cli([*BUILD, "--vars", json.dumps(dbt_vars)], context=context).stream()
