"""The Dagster code location: one Definitions object for the whole platform."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from ingestion.connectors import load_connectors
from orchestration.defs.connectors import build_connector_assets, entity_upstreams
from orchestration.defs.ingestion import build_ingestion_assets, compensation_plans, landing_folder, loader_log_spec
from orchestration.defs.jobs import nightly_preview_job, nightly_preview_schedule, publish_month_job
from orchestration.defs.operations import month_close_schedule, run_failure_alert_sensor
from orchestration.defs.publication import published_monthly_payouts, published_state_specs
from orchestration.defs.warehouse import spm_dbt_models, spm_dbt_monthly_models
from orchestration.lib.dbt import spm_dbt_project
from orchestration.lib.run_lock import RunLockResource
from orchestration.lib.warehouse import PlatformResource, WarehouseResource
from orchestration.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """Definitions bound to one data folder. Tests build their own with a temporary one.

    Connector assets (SQL / HTTP sources) exist only when `settings.connectors_file` names some; their secrets
    are read from the environment when they run. The resolved paths are also exported to the environment,
    because the dbt subprocess reads the warehouse path from `SPM_WAREHOUSE_PATH` (profiles.yml), the one
    setting that cannot travel as a resource.
    """
    settings.export_to_environment()
    connectors = load_connectors(settings.connectors_file)
    return dg.Definitions(
        assets=[
            *build_connector_assets(connectors),
            landing_folder,
            *build_ingestion_assets(entity_upstreams(connectors)),
            loader_log_spec,
            compensation_plans,
            spm_dbt_models,
            spm_dbt_monthly_models,
            published_monthly_payouts,
            *published_state_specs,
        ],
        jobs=[nightly_preview_job, publish_month_job],
        schedules=[nightly_preview_schedule, month_close_schedule],
        sensors=[run_failure_alert_sensor],
        resources={
            "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
            # held for the whole run by every asset that writes the warehouse (one writing run at a time)
            "run_lock": RunLockResource(path=str(settings.warehouse_path)),
            "platform": PlatformResource(
                landing_dir=str(settings.landing_dir),
                plans_dir=str(settings.plans_dir),
                serving_path=str(settings.serving_path),
                max_payout_change_ratio=settings.max_payout_change_ratio,
                future_tolerance_days=settings.future_tolerance_days,
                connectors_state_dir=str(settings.connectors_state_dir),
            ),
            "dbt": DbtCliResource(
                project_dir=spm_dbt_project,
                profiles_dir=str(spm_dbt_project.profiles_dir),
                # the dbt installed next to this interpreter, whether or not the venv is on PATH, started through
                # spm-dbt so that it holds the run's writer guard as long as it lives (orchestration/lib/run_lock.py)
                dbt_executable=str(Path(sys.executable).parent / "spm-dbt"),
            ),
        },
    )


defs = build_definitions(Settings.from_env())
