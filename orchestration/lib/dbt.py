"""The dbt project as Dagster sees it: project handle and the asset-key/group translator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from orchestration.settings import DBT_PROJECT_DIR

# The manifest is built at set-up time (`make setup` runs `dbt parse`); under `dagster dev` it is refreshed
# automatically. Nothing parses dbt at import time in production or tests.
spm_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
spm_dbt_project.prepare_if_dev()


class SpmDbtTranslator(DagsterDbtTranslator):
    """Asset keys mirror warehouse locations: sources are `<schema>/<table>` (`raw/...` for what ingestion
    loads; `published/...` and `audit/...` for what the publication step wrote, which the prior-period
    adjustments read back), models `<layer>/<model>`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["config"]["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "warehouse"


translator = SpmDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
