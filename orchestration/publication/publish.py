"""Write-audit-publish of monthly payouts.

`publish_months` is the only code that writes `published.*`. It:

1. evaluates every blocking check (SQL gates + the Great Expectations suite) for the months being published
   and records each result in `audit.check_results` (whatever the outcome: the audit trail is not payout data);
2. if any check failed, raises :class:`PublicationBlocked` naming each failing check, its rule and sample
   offending keys - and writes nothing to `published.*`;
3. otherwise, in ONE transaction, writes the months' payout rows and commission ledger lines and a manifest row in
   `audit.publications` (run id, code version, plan versions, source loads, check results, content hashes).

A month already published with identical content is left alone (a rerun is a no-op). A month already
published with *different* content is refused unless `republish=True`: closed months are immutable, and
changing one is an explicit act (prior-period adjustments replace this in the month-close work).
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.publication.gates import CheckResult, GateContext, evaluate_gates
from orchestration.settings import REPO_ROOT

log = logging.getLogger(__name__)

PUBLISHED_TABLES = {
    # published table -> preview mart it is copied from
    "monthly_payouts": "marts.fct_monthly_payouts",
    "commission_ledger": "marts.fct_commission_ledger",
}


class PublicationBlocked(RuntimeError):
    """A blocking check failed; nothing was published."""

    def __init__(self, months: Iterable[date], results: list[CheckResult]):
        self.months = tuple(months)
        self.results = results
        failing = [r for r in results if not r.passed]
        lines = [
            f"publication of {', '.join(m.strftime('%Y-%m') for m in self.months)} blocked by "
            f"{len(failing)} failing check(s); published tables are unchanged:"
        ]
        lines += [f"  - {r.describe()}" for r in failing]
        super().__init__("\n".join(lines))


class MonthAlreadyPublished(RuntimeError):
    """The month is closed and its recomputed content differs; republishing must be explicit."""


@dataclass(frozen=True)
class PublicationResult:
    months_published: tuple[date, ...]
    months_unchanged: tuple[date, ...]
    check_results: tuple[CheckResult, ...]
    payout_rows: int


def code_version() -> str:
    """The git commit the code runs from (plus '-dirty' when the tree has local edits)."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def ensure_publication_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("create schema if not exists published")
    conn.execute("create schema if not exists audit")
    for table, source in PUBLISHED_TABLES.items():
        conn.execute(
            f"""create table if not exists published.{table} as
                select *, cast(null as varchar) as publication_id, cast(null as timestamp) as published_at
                from {source} where false"""
        )
    conn.execute(
        """create table if not exists audit.publications (
            publication_id varchar primary key, payout_month date not null, run_id varchar not null,
            published_at timestamp not null, payout_rows bigint not null, ledger_lines bigint not null,
            payout_content_hash varchar not null, lines_content_hash varchar not null,
            total_net_payout_by_currency varchar not null, manifest varchar not null)"""
    )
    conn.execute(
        """create table if not exists audit.check_results (
            run_id varchar not null, evaluated_at timestamp not null, payout_months varchar not null,
            check_name varchar not null, rule varchar not null, passed boolean not null,
            failing_count bigint not null, sample_keys varchar not null)"""
    )


def _content_hash(conn: duckdb.DuckDBPyConnection, relation: str, month: date, key: str) -> str:
    """Order-independent fingerprint of a month's rows (all columns except publication metadata)."""
    columns = [
        r[0]
        for r in conn.execute(f"select * from {relation} limit 0").description
        if r[0] not in ("publication_id", "published_at")
    ]
    row_text = " || '|' || ".join(f"coalesce(cast({c} as varchar), '<null>')" for c in columns)
    digest = conn.execute(
        f"select md5(coalesce(string_agg({row_text}, '\n' order by {key}), '')) from {relation} where payout_month = ?",
        [month],
    ).fetchone()[0]
    return str(digest)


def _source_manifest(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    loads = conn.execute(
        """select entity, count(*) as files, sum(rows_loaded) as rows_loaded,
                  sha256(string_agg(sha256, ',' order by source_file)) as inputs_hash,
                  list(load_id order by source_file) as load_ids
           from raw._loaded_files group by entity order by entity"""
    ).fetchall()
    plans = conn.execute(
        "select plan_id || '.v' || cast(plan_version as varchar), content_hash from raw.plans__plan_versions order by 1"
    ).fetchall()
    return {
        "source_loads": {
            e: {"files": f, "rows_loaded": int(r or 0), "inputs_sha256": h, "load_ids": list(ids)}
            for e, f, r, h, ids in loads
        },
        "plan_versions_loaded": {name: h for name, h in plans},
    }


def evaluate_all_checks(
    conn: duckdb.DuckDBPyConnection, ctx: GateContext, *, run_great_expectations: bool = True
) -> list[CheckResult]:
    results = evaluate_gates(conn, ctx)
    if run_great_expectations:
        from orchestration.publication.payout_expectations import validate_payouts

        months = ", ".join(f"date '{m.isoformat()}'" for m in ctx.months)
        frame = conn.execute(
            f"select * from marts.fct_monthly_payouts where payout_month in ({months}) order by payout_id"
        ).df()
        results += validate_payouts(frame)
    return results


def _record_checks(conn: duckdb.DuckDBPyConnection, run_id: str, ctx: GateContext, results: list[CheckResult]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    months = ",".join(m.isoformat() for m in ctx.months)
    conn.executemany(
        "insert into audit.check_results values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                run_id,
                now,
                months,
                r.check_name,
                r.rule,
                r.passed,
                r.failing_count,
                json.dumps(list(r.sample_keys)),
            ]
            for r in results
        ],
    )


def publish_months(
    conn: duckdb.DuckDBPyConnection,
    ctx: GateContext,
    *,
    run_id: str,
    republish: bool = False,
    run_great_expectations: bool = True,
) -> PublicationResult:
    """Gate, then atomically publish every month of `ctx.months` (all or nothing)."""
    ensure_publication_tables(conn)
    results = evaluate_all_checks(conn, ctx, run_great_expectations=run_great_expectations)
    _record_checks(conn, run_id, ctx, results)
    if not all(r.passed for r in results):
        raise PublicationBlocked(ctx.months, results)

    published_at = datetime.now(UTC).replace(tzinfo=None)
    sources = _source_manifest(conn)
    version = code_version()
    published: list[date] = []
    unchanged: list[date] = []
    payout_rows = 0
    conn.execute("begin transaction")
    try:
        for month in ctx.months:
            payout_hash = _content_hash(conn, "marts.fct_monthly_payouts", month, "payout_id")
            lines_hash = _content_hash(conn, "marts.fct_commission_ledger", month, "ledger_line_id")
            already = conn.execute(
                """select payout_content_hash, lines_content_hash from audit.publications
                   where payout_month = ? order by published_at desc limit 1""",
                [month],
            ).fetchone()
            if already is not None:
                if already == (payout_hash, lines_hash):
                    unchanged.append(month)
                    continue
                if not republish:
                    raise MonthAlreadyPublished(
                        f"{month:%Y-%m} is already published and its recomputed payouts differ "
                        f"(published hash {already[0][:12]}, now {payout_hash[:12]}); closed months are immutable. "
                        "Publish with republish=True to replace it explicitly."
                    )
            publication_id = hashlib.sha256(f"{run_id}:{month.isoformat()}".encode()).hexdigest()[:16]
            for table, source in PUBLISHED_TABLES.items():
                conn.execute(f"delete from published.{table} where payout_month = ?", [month])
                conn.execute(
                    f"insert into published.{table} by name select *, ? as publication_id, ? as published_at "
                    f"from {source} where payout_month = ?",
                    [publication_id, published_at, month],
                )
            counts = conn.execute(
                """select count(*), (select count(*) from marts.fct_commission_ledger where payout_month = ?)
                   from marts.fct_monthly_payouts where payout_month = ?""",
                [month, month],
            ).fetchone()
            totals = dict(
                conn.execute(
                    """select currency_code, cast(sum(net_payout_amount) as varchar)
                       from marts.fct_monthly_payouts where payout_month = ? group by 1 order by 1""",
                    [month],
                ).fetchall()
            )
            plan_versions = [
                r[0]
                for r in conn.execute(
                    """select distinct plan_id || '.v' || cast(plan_version as varchar)
                       from marts.fct_monthly_payouts where payout_month = ? order by 1""",
                    [month],
                ).fetchall()
            ]
            manifest = {
                "run_id": run_id,
                "payout_month": month.isoformat(),
                "code_version": version,
                "plan_versions_used": plan_versions,
                **sources,
                "checks": [
                    {"name": r.check_name, "passed": r.passed, "failing_count": r.failing_count} for r in results
                ],
                "republish": already is not None,
            }
            conn.execute(
                "insert into audit.publications values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    publication_id,
                    month,
                    run_id,
                    published_at,
                    counts[0],
                    counts[1],
                    payout_hash,
                    lines_hash,
                    json.dumps(totals, sort_keys=True),
                    json.dumps(manifest, sort_keys=True, default=str),
                ],
            )
            published.append(month)
            payout_rows += int(counts[0])
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    log.info("published %d month(s), %d unchanged", len(published), len(unchanged))
    return PublicationResult(tuple(published), tuple(unchanged), tuple(results), payout_rows)


SERVING_SCHEMAS = ("published", "marts", "audit")
# Unpublished previews stay out of the serving file: BI reads payouts from published.* only.
SERVING_EXCLUDED = {("marts", "fct_monthly_payouts"), ("marts", "fct_commission_ledger")}


def refresh_serving_database(conn: duckdb.DuckDBPyConnection, serving_path: Path) -> Path:
    """Write a fresh read-only copy of the published data for BI tools, then swap it in atomically.

    DuckDB lets only one process open a file for writing, and a writer blocks other processes from opening
    it at all. BI tools therefore never open the warehouse: they read `serving_path`, which is rebuilt as a
    new file next to it and renamed over the old one (an atomic rename on POSIX). A reader that already has
    the old file open keeps a consistent snapshot; the next connection sees the new one. Nobody ever sees a
    half-written month.
    """
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = serving_path.with_name(f".{serving_path.name}.{datetime.now(UTC):%Y%m%d%H%M%S%f}.tmp")
    tmp.unlink(missing_ok=True)
    conn.execute(f"attach '{tmp}' as serving_new")
    try:
        for schema in SERVING_SCHEMAS:
            conn.execute(f"create schema if not exists serving_new.{schema}")
            tables = conn.execute(
                """select table_name from information_schema.tables
                   where table_schema = ? and table_catalog = current_database() order by 1""",
                [schema],
            ).fetchall()
            for (table,) in tables:
                if (schema, table) in SERVING_EXCLUDED:
                    continue
                conn.execute(f"create table serving_new.{schema}.{table} as select * from {schema}.{table}")
    finally:
        conn.execute("detach serving_new")
    tmp.replace(serving_path)
    return serving_path
