"""Where things live, from environment variables with safe local defaults.

Every path the platform touches is resolved here, once, so Dagster resources, the dbt profile (which reads the
same variables through `env_var`), the CLI and the tests agree on one warehouse file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).resolve() if value else default


def _optional_path(var: str) -> Path | None:
    value = os.environ.get(var)
    return Path(value).resolve() if value else None


def _dates(var: str, default: frozenset[date]) -> frozenset[date]:
    """Comma-separated ISO dates (`2025-12-25, 2026-01-01`); blanks are ignored."""
    value = os.environ.get(var)
    if value is None:
        return default
    return frozenset(date.fromisoformat(item.strip()) for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    warehouse_path: Path
    serving_path: Path
    plans_dir: Path
    first_month: date
    max_payout_change_ratio: float
    close_business_day: int
    close_holidays: frozenset[date]
    alert_webhook_url: str | None
    future_tolerance_days: float
    connectors_file: Path | None = None
    """YAML naming the SQL / HTTP connectors to extract (docs/connectors.md); None = files only (the demo)."""

    @property
    def connectors_state_dir(self) -> Path:
        """dlt's pipeline folders (incremental cursors, pending extracts): kept with the data they produced."""
        return self.data_dir / "connectors"

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Settings:
        """Defaults rooted at `data_dir`, ignoring the environment (tests use this for isolation)."""
        return cls(
            data_dir=data_dir,
            landing_dir=data_dir / "landing",
            warehouse_path=data_dir / "warehouse.duckdb",
            serving_path=data_dir / "serving" / "spm.duckdb",
            plans_dir=REPO_ROOT / "plans",
            first_month=date(2024, 11, 1),
            # Month-over-month change in total payout (reporting currency) above which publication is
            # blocked unless the month is acknowledged. 0.5 = +/-50 %.
            max_payout_change_ratio=0.5,
            # A month is closed (published) on this business day of the next month: time for late CRM and
            # billing edits of the closed month to land first. Business days are Mon-Fri minus the holidays.
            close_business_day=3,
            close_holidays=frozenset(),
            # Where failed runs are reported besides the log (a Slack-style incoming webhook); None = log only.
            alert_webhook_url=None,
            # How far a source's last-change timestamp may lie after the load before the row is quarantined
            # (`not_future`, ingestion/loader.py): clock skew between the source system and us.
            future_tolerance_days=1.0,
        )

    @classmethod
    def from_env(cls) -> Settings:
        """Defaults under SPM_DATA_DIR (or ./data), each overridable by its own SPM_* variable."""
        base = cls.for_data_dir(_path("SPM_DATA_DIR", REPO_ROOT / "data"))
        return cls(
            data_dir=base.data_dir,
            landing_dir=_path("SPM_LANDING_DIR", base.landing_dir),
            warehouse_path=_path("SPM_WAREHOUSE_PATH", base.warehouse_path),
            serving_path=_path("SPM_SERVING_PATH", base.serving_path),
            plans_dir=_path("SPM_PLANS_DIR", base.plans_dir),
            first_month=date.fromisoformat(os.environ.get("SPM_FIRST_MONTH", base.first_month.isoformat())),
            max_payout_change_ratio=float(
                os.environ.get("SPM_MAX_PAYOUT_CHANGE_RATIO", str(base.max_payout_change_ratio))
            ),
            close_business_day=int(os.environ.get("SPM_CLOSE_BUSINESS_DAY", str(base.close_business_day))),
            close_holidays=_dates("SPM_CLOSE_HOLIDAYS", base.close_holidays),
            alert_webhook_url=os.environ.get("SPM_ALERT_WEBHOOK_URL") or base.alert_webhook_url,
            future_tolerance_days=float(
                os.environ.get("SPM_FUTURE_TOLERANCE_DAYS", str(base.future_tolerance_days))
            ),
            connectors_file=_optional_path("SPM_CONNECTORS_FILE"),
        )

    def export_to_environment(self) -> None:
        """Pin the warehouse path into os.environ: the dbt subprocess reads it in profiles.yml. Every other
        setting reaches the assets through Dagster resources."""
        os.environ["SPM_WAREHOUSE_PATH"] = str(self.warehouse_path)
