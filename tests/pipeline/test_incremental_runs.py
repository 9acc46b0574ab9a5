"""Incremental runs recompute from the month new data changes, not from every date a new version carries.

Runs the real pipeline on the small generated company (marked slow; CI runs it).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from .incremental import INCREMENTAL_ENGINE_MODELS, assert_incremental_models_match_full_rebuild

NOV, JAN, FEB, MAR = date(2025, 11, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
"""November 2025 to March 2026: two months of 2025, then 2026, whose plans pay managers on quarterly quotas."""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_company_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small generated company, moved to start in November 2025 (overrides the session fixture)."""
    from ingestion.demo.config import CompanyConfig
    from ingestion.demo.generator import generate_company

    landing = tmp_path_factory.mktemp("company_2025_11") / "landing"
    generate_company(CompanyConfig(seed=7, payees=24, months=5, start_month=NOV), landing)
    return landing


def _latest_version(platform, entity: str, where: str, params: list) -> dict:
    from ingestion.contracts import contract

    columns = [c.name for c in contract(entity).columns]
    row = platform.query(
        f"select {', '.join(columns)} from raw.{entity} where {where} order by last_modified desc limit 1", params
    )[0]
    return dict(zip(columns, row, strict=True))


def _text(value: object) -> object:
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else value


def _land_csv(platform, entity: str, name: str, row: dict) -> None:
    source, table = entity.split("__")
    with (platform.landing_dir / source / table / name).open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(row)
        writer.writerow([_text(v) for v in row.values()])


def _land_jsonl(platform, entity: str, name: str, row: dict) -> None:
    source, table = entity.split("__")
    line = json.dumps({k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}, default=str)
    (platform.landing_dir / source / table / name).write_text(line + "\n")


def _rebuilt_from(platform) -> dict[str, date | None]:
    """The month each engine model's latest build recomputed from (intermediate.incremental_builds)."""
    rows = platform.query(
        """select model_name, rebuilt_from from intermediate.incremental_builds
           qualify row_number() over (partition by model_name order by built_at desc) = 1"""
    )
    return dict(rows)


def _every_engine_model(month: date) -> dict[str, date]:
    return {name.split(".")[1]: month for name in INCREMENTAL_ENGINE_MODELS}


def _january_entries(platform, employee_id: str) -> list[tuple]:
    """The manager's January entries with the quota and attainment they were computed against."""
    return platform.query(
        """select entry_id, quota_amount, attainment_after, amount from intermediate.int_commission_entries
           where employee_id = ? and payout_month = ? order by entry_id""",
        [employee_id, JAN],
    )


def test_new_versions_of_old_records_recompute_only_from_the_month_their_change_takes_effect(platform, tmp_path):
    """November 2025 to February 2026 are closed. March brings, in two runs:

    1. a later version of an old subscription cancelling it in March, and a customer re-sent unchanged but for
       its last_modified: the nightly run recomputes from March only (the old rule restarted from the
       subscription's start and the customer's creation);
    2. a termination set on a sales manager's HR row, effective since their hire years ago: the close recomputes
       from January 2026, the start of the quarter whose quota the termination prorates (January's evaluation
       really changes), not from the hire date.

    After each run the engine holds exactly what a full rebuild computes."""
    assert platform.run("publish_month_job", NOV, FEB).success

    subscription = _latest_version(platform, "billing__subscriptions", "start_date < ? and end_date is null", [JAN])
    subscription.update(status="canceled", end_date=date(2026, 3, 28), last_modified="2026-03-28T10:00:00")
    _land_jsonl(platform, "billing__subscriptions", "subscriptions_2026-03-cancel.jsonl", subscription)
    customer = _latest_version(platform, "billing__customers", "created_at < ?", [JAN])
    customer.update(last_modified="2026-03-29T10:00:00")
    _land_jsonl(platform, "billing__customers", "customers_2026-03-touch.jsonl", customer)

    assert platform.run("nightly_preview_job", MAR, MAR).success
    assert platform.query(
        "select count(*) from raw.billing__subscriptions where subscription_id = ? and status = 'canceled'",
        [subscription["subscription_id"]],
    ) == [(1,)], "the cancellation must have been loaded"
    assert _rebuilt_from(platform) == _every_engine_model(MAR)
    assert_incremental_models_match_full_rebuild(platform.warehouse_path, tmp_path / "after_cancellation")

    manager = _latest_version(
        platform,
        "hr__workers",
        "job_role = 'SALES_MANAGER' and termination_date is null and effective_from < ? "
        "and employee_id in (select employee_id from raw.hr__workers group by 1 having count(*) = 1)",
        [NOV],
    )
    january_before = _january_entries(platform, manager["employee_id"])
    assert january_before, "the manager must have been paid on January's quarter"
    manager.update(termination_date=date(2026, 3, 20), last_modified="2026-03-21T09:00:00")
    _land_csv(platform, "hr__workers", "workers_2026-03-termination.csv", manager)

    assert platform.run("publish_month_job", MAR, MAR).success
    assert _rebuilt_from(platform) == _every_engine_model(JAN)
    assert _january_entries(platform, manager["employee_id"]) != january_before, (
        "a shorter employment prorates the quarter's quota: January's entries must be computed against it"
    )
    assert_incremental_models_match_full_rebuild(platform.warehouse_path, tmp_path / "after_termination")
