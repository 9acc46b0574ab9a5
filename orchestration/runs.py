"""Launching the platform's jobs in-process, for the CLI and the tests.

A backfill of several months is one run over a partition *range* (the single-run backfill policy), so dbt
starts once however many months are rebuilt.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from orchestration.lib.partitions import RANGE_END_TAG, RANGE_START_TAG


def month_key(month: date) -> str:
    return month.strftime("%Y-%m-01")


def run_job_for_months(
    defs: dg.Definitions,
    job_name: str,
    first_month: date,
    last_month: date,
    *,
    instance: dg.DagsterInstance | None = None,
    run_config: dict | None = None,
    raise_on_error: bool = False,
    log_level: str = "INFO",
    asset_selection: list[dg.AssetKey] | None = None,
) -> dg.ExecuteInProcessResult:
    """Run `job_name` once over the months [first_month, last_month] (inclusive).

    `log_level` sets the console logger (the run's event log keeps everything regardless). `asset_selection`
    runs only the steps materialising those assets (all of the job's by default), as a re-execution of the
    steps a crashed run did not finish would (tests/pipeline/test_crash_safety.py resumes killed runs so).
    """
    job = defs.resolve_job_def(job_name)
    tags = {RANGE_START_TAG: month_key(first_month), RANGE_END_TAG: month_key(last_month)}
    config = {**(run_config or {}), "loggers": {"console": {"config": {"log_level": log_level}}}}
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags=tags,
        run_config=config,
        raise_on_error=raise_on_error,
        asset_selection=asset_selection,
    )


def publication_run_config(*, acknowledge: list[str] | None = None) -> dict:
    return {"ops": {"published__monthly_payouts": {"config": {"acknowledge_payout_change_months": acknowledge or []}}}}
