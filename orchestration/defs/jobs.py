"""Jobs and schedules.

* `nightly_preview_job`: ingest every source, rebuild the warehouse and the open month's payout preview.
  Nothing is published. Scheduled nightly for the current (open) month.
* `publish_month_job`: the same plus the gated publication. Data engineers backfill closed months with it;
  a backfill of N months runs as one run (single-run backfill policy), so dbt starts once.
Both run in one process (in-process executor): steps are sequential, so only one ever writes the DuckDB
file, and the ~10 s per-step process start-up of the multiprocess executor is avoided. Both carry the
`spm/warehouse=writer` tag that dagster.yaml limits to one run at a time.
"""

from datetime import datetime

import dagster as dg

from orchestration.defs.publication import PUBLISHED_PAYOUTS
from orchestration.lib.partitions import monthly_partitions

WRITER_TAGS = {"spm/warehouse": "writer"}

everything_but_publication = dg.AssetSelection.all() - dg.AssetSelection.assets(PUBLISHED_PAYOUTS)

nightly_preview_job = dg.define_asset_job(
    "nightly_preview_job",
    selection=everything_but_publication,
    partitions_def=monthly_partitions,
    executor_def=dg.in_process_executor,
    tags=WRITER_TAGS,
    description="Ingest all sources and rebuild the open month's payout preview (no publication).",
)

publish_month_job = dg.define_asset_job(
    "publish_month_job",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly_partitions,
    executor_def=dg.in_process_executor,
    tags=WRITER_TAGS,
    description="Ingest, rebuild and publish the selected month(s) if every blocking check passes.",
)


def open_month_partition_key(scheduled_at: datetime) -> str:
    """The open month is the calendar month the run is scheduled in."""
    return scheduled_at.strftime("%Y-%m-01")


@dg.schedule(job=nightly_preview_job, cron_schedule="0 2 * * *", execution_timezone="UTC")
def nightly_preview_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    scheduled_at = context.scheduled_execution_time
    return dg.RunRequest(
        run_key=f"nightly-{scheduled_at:%Y-%m-%d}",
        partition_key=open_month_partition_key(scheduled_at),
    )
