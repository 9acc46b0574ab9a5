"""A published installation to break: the small company with January and February 2025 closed.

Every fault case starts from a copy of the same baseline (built once per test session by the real pipeline),
lands its bad input as a new delivery, and runs the stage that must catch it. "Published state" is every row of
every `published.*` and `audit.*` table plus the bytes of the serving file BI tools read: the fault suite asserts
that a rejected input leaves all of it exactly as it was, except that the audit trail of publication attempts
(`audit.check_results`) records the blocked attempt.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
PUBLISHED_SCHEMAS = ("published", "audit")


AUDIT_OF_ATTEMPTS = "audit.check_results"
"""Every publication attempt records its check results here, blocked or not: it may gain rows, never lose any."""


@dataclass(frozen=True)
class PublishedState:
    """What readers and auditors see: all published and audit rows, and the serving file's digest."""

    tables: dict[str, list[tuple]]
    serving_sha256: str | None

    def changes_since(self, before: PublishedState) -> list[str]:
        """What a rejected input must not have caused: any published table, audit table or serving-file change,
        except new rows in the audit of attempts (`audit.check_results`)."""
        changes = [] if self.serving_sha256 == before.serving_sha256 else ["the serving file changed"]
        for table in sorted(set(before.tables) | set(self.tables)):
            old, new = before.tables.get(table, []), self.tables.get(table, [])
            if table == AUDIT_OF_ATTEMPTS:
                old_rows = set(old)
                if not old_rows <= set(new):
                    changes.append(f"{table}: earlier rows changed or removed")
            elif old != new:
                changes.append(f"{table}: {len(old)} rows before, {len(new)} after, not identical")
        return changes

    def rows_changed_since(self, before: PublishedState) -> int:
        """Rows of `before` that are gone or different now (a later publication may add rows, never change or
        remove earlier ones)."""
        changed = 0
        for table, rows in before.tables.items():
            now = set(self.tables.get(table, []))
            changed += sum(1 for row in rows if row not in now)
        return changed


def published_state(warehouse_path: Path, serving_path: Path) -> PublishedState:
    with duckdb.connect(str(warehouse_path), read_only=True) as conn:
        tables = {
            f"{schema}.{name}": conn.execute(f'select * from "{schema}"."{name}" order by all').fetchall()
            for schema, name in conn.execute(
                "select table_schema, table_name from information_schema.tables"
                " where table_schema in ('published', 'audit') and table_type = 'BASE TABLE' order by 1, 2"
            ).fetchall()
        }
    digest = hashlib.sha256(serving_path.read_bytes()).hexdigest() if serving_path.exists() else None
    return PublishedState(tables=tables, serving_sha256=digest)


@dataclass
class Installation:
    """One isolated copy of the baseline: its settings and, on demand, Dagster definitions bound to them."""

    settings: object

    @property
    def landing_dir(self) -> Path:
        return self.settings.landing_dir

    @property
    def warehouse_path(self) -> Path:
        return self.settings.warehouse_path

    def published(self) -> PublishedState:
        return published_state(self.settings.warehouse_path, self.settings.serving_path)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse_path), read_only=True) as conn:
            return conn.execute(sql, params or []).fetchall()

    def publish(self, first: date, last: date):
        """Run the real `publish_month_job` in-process for the months (what `spm publish` runs)."""
        import dagster as dg

        from orchestration.definitions import build_definitions
        from orchestration.runs import run_job_for_months

        defs = build_definitions(self.settings)
        with dg.instance_for_test() as instance:
            return run_job_for_months(defs, "publish_month_job", first, last, instance=instance)


def installation_at(data_dir: Path) -> Installation:
    from orchestration.settings import Settings

    # Plans are copied into the installation, so a case can break them without touching the repository's. The
    # month-over-month payout bound is off: a fault case that adds one deal must not trip it by accident.
    settings = replace(Settings.for_data_dir(data_dir), plans_dir=data_dir / "plans", max_payout_change_ratio=1000.0)
    return Installation(settings=settings)


def build_baseline(data_dir: Path, company_landing: Path) -> Installation:
    """The small company landed in full (Jan-Mar 2025) with January and February published."""
    from orchestration.settings import Settings

    installation = installation_at(data_dir)
    shutil.copytree(company_landing, installation.landing_dir)
    shutil.copytree(Settings.for_data_dir(data_dir).plans_dir, installation.settings.plans_dir)
    result = installation.publish(JAN, FEB)
    assert result.success, "the baseline installation must publish January and February"
    return installation


def copy_installation(baseline: Installation, data_dir: Path) -> Installation:
    shutil.copytree(baseline.settings.data_dir, data_dir)
    return installation_at(data_dir)
