"""Shared fixtures: a parsed dbt manifest, small generated companies and isolated platform instances.

Companies come from the demo generator (never hand-maintained CSVs); every platform instance gets its own
data folder, warehouse and Dagster instance, so no test depends on another's side effects.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

SMALL_COMPANY = {"seed": 7, "payees": 24, "months": 3, "start_month": date(2025, 1, 1)}


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """Parse the dbt project once per session, so the manifest matches the models under test."""
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "parse", "--quiet"],
        cwd=DBT_PROJECT_DIR,
        check=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    return DBT_PROJECT_DIR / "target" / "manifest.json"


@pytest.fixture(scope="session")
def small_company_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Landing files of a small generated company (24 payees, Jan-Mar 2025). Copy before mutating."""
    from ingestion.demo.config import CompanyConfig
    from ingestion.demo.generator import generate_company

    landing = tmp_path_factory.mktemp("small_company") / "landing"
    generate_company(CompanyConfig(**SMALL_COMPANY), landing)
    return landing


@dataclass
class Platform:
    """One isolated installation: its data folder, settings and Dagster definitions."""

    settings: object
    defs: object
    instance: object

    @property
    def warehouse_path(self) -> Path:
        return self.settings.warehouse_path

    @property
    def landing_dir(self) -> Path:
        return self.settings.landing_dir

    def run(self, job: str, first: date, last: date, **config):
        from orchestration.runs import publication_run_config, run_job_for_months

        run_config = publication_run_config(**config) if job == "publish_month_job" else {}
        return run_job_for_months(self.defs, job, first, last, instance=self.instance, run_config=run_config)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        import duckdb

        with duckdb.connect(str(self.warehouse_path), read_only=True) as conn:
            return conn.execute(sql, params or []).fetchall()


@pytest.fixture
def platform(tmp_path: Path, dbt_manifest: Path, small_company_landing: Path, monkeypatch) -> Iterator[Platform]:
    """A fresh platform whose landing folder holds a copy of the small company."""
    import dagster as dg

    from orchestration.settings import Settings

    settings = replace(Settings.for_data_dir(tmp_path / "data"), max_payout_change_ratio=1000.0)
    shutil.copytree(small_company_landing, settings.landing_dir)
    # build_definitions pins SPM_WAREHOUSE_PATH for the dbt subprocess; monkeypatch restores it afterwards
    monkeypatch.setenv("SPM_WAREHOUSE_PATH", str(settings.warehouse_path))
    from orchestration.definitions import build_definitions

    defs = build_definitions(settings)
    with dg.instance_for_test() as instance:
        yield Platform(settings=settings, defs=defs, instance=instance)
