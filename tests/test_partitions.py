"""Partition windows become dbt run settings; the nightly schedule targets the open month."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from orchestration.lib.partitions import dbt_settings_for_window, months_in_window


def test_single_month_window_becomes_inclusive_dbt_settings():
    assert dbt_settings_for_window(datetime(2025, 3, 1), datetime(2025, 4, 1)) == {
        "partition_start_month": "2025-03-01",
        "partition_end_month": "2025-03-01",
    }


def test_multi_month_backfill_window_spans_year_end():
    assert months_in_window(date(2024, 11, 1), date(2025, 2, 1)) == [
        date(2024, 11, 1),
        date(2024, 12, 1),
        date(2025, 1, 1),
    ]
    assert dbt_settings_for_window(date(2024, 11, 1), date(2025, 2, 1))["partition_end_month"] == "2025-01-01"


@pytest.mark.parametrize(
    ("start", "end"), [(date(2025, 3, 1), date(2025, 3, 1)), (date(2025, 3, 1), date(2025, 3, 15))]
)
def test_empty_or_ragged_windows_are_rejected(start, end):
    with pytest.raises(ValueError):
        months_in_window(start, end)


def test_nightly_schedule_builds_the_month_it_runs_in():
    from orchestration.defs.jobs import open_month_partition_key

    assert open_month_partition_key(datetime(2026, 11, 24, 2, 0)) == "2026-11-01"


def test_the_runs_month_range_becomes_dbt_settings_for_the_unpartitioned_models_too():
    from orchestration.lib.partitions import dbt_settings_for_run_tags

    ranged = {"dagster/asset_partition_range_start": "2025-01-01", "dagster/asset_partition_range_end": "2025-03-01"}
    assert dbt_settings_for_run_tags(ranged) == {
        "partition_start_month": "2025-01-01",
        "partition_end_month": "2025-03-01",
    }
    assert dbt_settings_for_run_tags({"dagster/partition": "2025-02-01"})["partition_start_month"] == "2025-02-01"
    assert dbt_settings_for_run_tags({}) == {}  # one asset materialized without a partition: rebuild every month
