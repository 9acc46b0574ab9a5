"""Monthly partitions and how a partition window becomes dbt run settings (orchestration/lib/dbt_runs.py).

Payouts are computed per calendar month, so the warehouse's partitioned assets are monthly. `end_offset=1`
includes the current, still-open month: the nightly run refreshes it as a preview.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from orchestration.settings import Settings

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=Settings.from_env().first_month.strftime("%Y-%m-%d"), end_offset=1
)


def months_in_window(start: datetime | date, end_exclusive: datetime | date) -> list[date]:
    """First days of every month in [start, end_exclusive)."""
    current = date(start.year, start.month, 1)
    stop = date(end_exclusive.year, end_exclusive.month, 1)
    if (end_exclusive.day, getattr(end_exclusive, "hour", 0)) != (1, 0):
        raise ValueError(f"window end {end_exclusive} is not the start of a month")
    months = []
    while current < stop:
        months.append(current)
        current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    if not months:
        raise ValueError(f"empty partition window [{start}, {end_exclusive})")
    return months


def dbt_settings_for_window(start: datetime | date, end_exclusive: datetime | date) -> dict[str, str]:
    """dbt run settings for a partition window: inclusive first days of the first and last month.

    Pure and unit-tested: this is the only translation between Dagster's half-open time windows and the
    `partition_start_month` / `partition_end_month` settings the incremental models filter and delete on.
    """
    months = months_in_window(start, end_exclusive)
    return {"partition_start_month": months[0].isoformat(), "partition_end_month": months[-1].isoformat()}


RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def dbt_settings_for_run_tags(tags: dict[str, str]) -> dict[str, str]:
    """The partition window of the *run*, for the unpartitioned dbt models it also builds.

    The engine's incremental intermediate models are not partitioned assets (they hold every month), but a run
    for a month range must still recompute at least those months (macros/incremental_rebuild.sql). A run
    without a partition (one asset materialized from the UI) gets no window: those models rebuild every month.
    """
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        first, last = date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG])
    elif PARTITION_TAG in tags:
        first = last = date.fromisoformat(tags[PARTITION_TAG])
    else:
        return {}
    return {
        "partition_start_month": first.replace(day=1).isoformat(),
        "partition_end_month": last.replace(day=1).isoformat(),
    }
