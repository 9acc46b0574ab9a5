"""Write-audit-publish of monthly payouts, and the month-close state machine.

A payout month is *open* until it is published; publishing *closes* it. `publish_months` is the only code that
writes `published.*`:

1. closed months in the requested range are left alone: their rows never change. Whatever a later run
   computes differently for them is booked as prior-period adjustment lines in the next open month by the dbt
   model `int_prior_period_adjustments`, which reads what was published;
2. every blocking check (SQL gates + the Great Expectations suite) is evaluated for the months being published
   and recorded in `audit.check_results` whatever the outcome (the audit trail is not payout data);
3. if any check failed, :class:`PublicationBlocked` names each failing check, its rule and sample offending
   keys, and nothing is written to `published.*`;
4. otherwise, in ONE transaction, each month's payout rows and ledger lines replace the month in
   `published.monthly_payouts` / `published.commission_ledger`, and a manifest row goes to
   `audit.publications` (run id, code version, plan versions, source loads and hashes, row counts, checks).

Reopening a closed month is an explicit act (`reopen_month`: who, when, why, in `audit.month_reopenings`).
The next publication of a reopened month is a new *version*: the rows it replaces move to
`published.superseded_monthly_payouts` / `published.superseded_commission_ledger`, so every version that was
ever published stays queryable. docs/month-close.md describes the whole process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import uuid
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
TABLE_KEYS = {"monthly_payouts": "payout_id", "commission_ledger": "ledger_line_id"}
PUBLICATION_COLUMNS = ("publication_id", "published_at")
SUPERSEDED_COLUMNS = ("superseded_at", "superseded_by_publication_id")


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


class MonthCloseError(RuntimeError):
    """A close-process rule was broken (months out of order, reopening an open month, ...); nothing changed."""


@dataclass(frozen=True)
class PublicationResult:
    months_published: tuple[date, ...]
    months_closed: tuple[date, ...]
    """Requested months that were already closed and were left untouched."""
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


def _columns(conn: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    schema, table = relation.split(".")
    return conn.execute(
        """select column_name, data_type from information_schema.columns
           where table_catalog = current_database() and table_schema = ? and table_name = ?
           order by ordinal_position""",
        [schema, table],
    ).fetchall()


def _add_missing_columns(conn: duckdb.DuckDBPyConnection, target: str, wanted: list[tuple[str, str]]) -> None:
    """Schema migration for published tables: a column the mart gained is added (null for older rows).
    Columns are never dropped or retyped, so nothing published is lost."""
    have = {name for name, _ in _columns(conn, target)}
    for name, data_type in wanted:
        if name not in have:
            conn.execute(f'alter table {target} add column "{name}" {data_type}')


def ensure_publication_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create (or migrate) `published.*` and `audit.*` so they hold every column the marts have."""
    conn.execute("create schema if not exists published")
    conn.execute("create schema if not exists audit")
    for table, source in PUBLISHED_TABLES.items():
        mart_columns = _columns(conn, source)
        for target, extra in (
            (f"published.{table}", PUBLICATION_COLUMNS),
            (f"published.superseded_{table}", PUBLICATION_COLUMNS + SUPERSEDED_COLUMNS),
        ):
            conn.execute(
                f"""create table if not exists {target} as
                    select *, cast(null as varchar) as publication_id, cast(null as timestamp) as published_at
                    from {source} where false"""
            )
            extras = [(c, "timestamp" if c.endswith("_at") else "varchar") for c in extra]
            _add_missing_columns(conn, target, mart_columns + extras)
    conn.execute(
        """create table if not exists audit.publications (
            publication_id varchar primary key, payout_month date not null, run_id varchar not null,
            published_at timestamp not null, payout_rows bigint not null, ledger_lines bigint not null,
            payout_content_hash varchar not null, lines_content_hash varchar not null,
            total_net_payout_by_currency varchar not null, manifest varchar not null)"""
    )
    _add_missing_columns(conn, "audit.publications", [("publication_version", "integer"), ("reopen_id", "varchar")])
    conn.execute(
        """create table if not exists audit.check_results (
            run_id varchar not null, evaluated_at timestamp not null, payout_months varchar not null,
            check_name varchar not null, rule varchar not null, passed boolean not null,
            failing_count bigint not null, sample_keys varchar not null, sample_details varchar)"""
    )
    # the amounts behind each sample key: kept here, beside the pay data, and out of messages and logs
    _add_missing_columns(conn, "audit.check_results", [("sample_details", "varchar")])
    conn.execute(
        """create table if not exists audit.month_reopenings (
            reopen_id varchar primary key, payout_month date not null, reopened_by varchar not null,
            reopened_at timestamp not null, reason varchar not null, reopened_publication_id varchar not null)"""
    )


@dataclass(frozen=True)
class MonthState:
    month: date
    status: str
    """'open' (never published), 'closed' (published, not reopened since) or 'reopened'."""
    publication_id: str | None = None
    publication_version: int = 0
    reopen_id: str | None = None


def month_states(conn: duckdb.DuckDBPyConnection) -> dict[date, MonthState]:
    """The close status of every month that was ever published (months not listed are open)."""
    rows = conn.execute(
        """with latest_publication as (
               select payout_month, publication_id, coalesce(publication_version, 1) as publication_version,
                      published_at,
                      row_number() over (partition by payout_month order by published_at desc) as recency
               from audit.publications
           ),
           latest_reopen as (
               select payout_month, reopen_id, reopened_at,
                      row_number() over (partition by payout_month order by reopened_at desc) as recency
               from audit.month_reopenings
           )
           select p.payout_month, p.publication_id, p.publication_version,
                  case when r.reopened_at > p.published_at then r.reopen_id end as open_reopen_id
           from latest_publication as p
           left join latest_reopen as r on r.payout_month = p.payout_month and r.recency = 1
           where p.recency = 1
           order by p.payout_month"""
    ).fetchall()
    return {
        month: MonthState(month, "reopened" if reopen_id else "closed", pub_id, version, reopen_id)
        for month, pub_id, version, reopen_id in rows
    }


def reopen_month(conn: duckdb.DuckDBPyConnection, month: date, *, reopened_by: str, reason: str) -> str:
    """Reopen a closed month: recorded with who, when and why. Its published rows stay as they are until the
    month is published again, which creates a new version and keeps this one in `published.superseded_*`."""
    if not reason.strip():
        raise MonthCloseError(f"reopening {month:%Y-%m} needs a reason (it is recorded in audit.month_reopenings)")
    if not reopened_by.strip():
        raise MonthCloseError(f"reopening {month:%Y-%m} needs the name of who reopens it")
    ensure_publication_tables(conn)
    state = month_states(conn).get(month)
    if state is None or state.status != "closed":
        status = "never published" if state is None else "already reopened"
        raise MonthCloseError(f"{month:%Y-%m} cannot be reopened: it is {status}; only a closed month can be")
    reopen_id = uuid.uuid4().hex[:16]
    conn.execute(
        "insert into audit.month_reopenings values (?, ?, ?, ?, ?, ?)",
        [
            reopen_id,
            month,
            reopened_by.strip(),
            datetime.now(UTC).replace(tzinfo=None),
            reason.strip(),
            state.publication_id,
        ],
    )
    log.warning("%s reopened by %s: %s", f"{month:%Y-%m}", reopened_by, reason)
    return reopen_id


def _content_hash(conn: duckdb.DuckDBPyConnection, relation: str, month: date, key: str) -> str:
    """Order-independent fingerprint of a month's rows (all columns except publication metadata)."""
    columns = [
        r[0] for r in conn.execute(f"select * from {relation} limit 0").description if r[0] not in PUBLICATION_COLUMNS
    ]
    row_text = " || '|' || ".join(f"coalesce(cast({c} as varchar), '<null>')" for c in columns)
    digest = conn.execute(
        f"select md5(coalesce(string_agg({row_text}, '\n' order by {key}), '')) from {relation} where payout_month = ?",
        [month],
    ).fetchone()[0]
    return str(digest)


def _source_manifest(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What the run was built from: every loaded source file (load ids, row counts, content hashes) and every
    plan version with its content hash."""
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
        """insert into audit.check_results (run_id, evaluated_at, payout_months, check_name, rule, passed,
               failing_count, sample_keys, sample_details) values (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
                json.dumps(dict(zip(r.sample_keys, r.sample_details, strict=False))) if r.sample_details else None,
            ]
            for r in results
        ],
    )


def _check_close_order(conn: duckdb.DuckDBPyConnection, states: dict[date, MonthState], months: list[date]) -> None:
    """Months close in calendar order: every month between the first published one and a month being
    published must be closed already or published in the same run. Otherwise a later month would be paid
    while an earlier one was never settled."""
    first_published = min(states, default=None)
    if first_published is None or not months:
        return
    calendar = [
        r[0]
        for r in conn.execute(
            "select distinct payout_month from marts.fct_monthly_payouts where payout_month between ? and ? order by 1",
            [first_published, max(months)],
        ).fetchall()
    ]
    missing = [m for m in calendar if m < max(months) and m not in states and m not in months]
    if missing:
        raise MonthCloseError(
            f"cannot publish {', '.join(f'{m:%Y-%m}' for m in months)}: earlier month(s) "
            f"{', '.join(f'{m:%Y-%m}' for m in missing)} are not closed; months are closed in order "
            "(publish them first, or in the same run)"
        )


def _write_month(
    conn: duckdb.DuckDBPyConnection,
    month: date,
    *,
    publication_id: str,
    published_at: datetime,
    replaces: MonthState | None,
) -> None:
    """Replace one month of `published.*` (inside the caller's transaction). The rows of an earlier version
    move to `published.superseded_*` first, stamped with when and by which publication they were replaced."""
    for table, source in PUBLISHED_TABLES.items():
        if replaces is not None:
            conn.execute(
                f"""insert into published.superseded_{table} by name
                    select *, ? as superseded_at, ? as superseded_by_publication_id
                    from published.{table} where payout_month = ?""",
                [published_at, publication_id, month],
            )
        conn.execute(f"delete from published.{table} where payout_month = ?", [month])
        conn.execute(
            f"insert into published.{table} by name select *, ? as publication_id, ? as published_at "
            f"from {source} where payout_month = ?",
            [publication_id, published_at, month],
        )


def publish_months(
    conn: duckdb.DuckDBPyConnection,
    ctx: GateContext,
    *,
    run_id: str,
    run_great_expectations: bool = True,
) -> PublicationResult:
    """Gate, then atomically publish every open or reopened month of `ctx.months` (all or nothing).

    Closed months in `ctx.months` are skipped: their published rows are final, and any difference the
    recomputation finds is already in the next open month's prior-period adjustment lines.
    """
    ensure_publication_tables(conn)
    states = month_states(conn)
    closed = [m for m in ctx.months if m in states and states[m].status == "closed"]
    to_publish = [m for m in ctx.months if m not in closed]
    if not to_publish:
        log.info("every requested month is closed; nothing to publish")
        return PublicationResult((), tuple(closed), (), 0)
    _check_close_order(conn, states, to_publish)
    gate_ctx = GateContext(
        months=tuple(to_publish),
        max_payout_change_ratio=ctx.max_payout_change_ratio,
        acknowledged_change_months=ctx.acknowledged_change_months,
    )
    results = evaluate_all_checks(conn, gate_ctx, run_great_expectations=run_great_expectations)
    _record_checks(conn, run_id, gate_ctx, results)
    if not all(r.passed for r in results):
        raise PublicationBlocked(gate_ctx.months, results)

    published_at = datetime.now(UTC).replace(tzinfo=None)
    sources = _source_manifest(conn)
    version = code_version()
    payout_rows = 0
    conn.execute("begin transaction")
    try:
        for month in to_publish:
            previous = states.get(month)
            publication_version = previous.publication_version + 1 if previous else 1
            publication_id = hashlib.sha256(f"{run_id}:{month.isoformat()}".encode()).hexdigest()[:16]
            _write_month(conn, month, publication_id=publication_id, published_at=published_at, replaces=previous)
            payout_hash = _content_hash(conn, "published.monthly_payouts", month, "payout_id")
            lines_hash = _content_hash(conn, "published.commission_ledger", month, "ledger_line_id")
            counts = conn.execute(
                """select count(*), (select count(*) from published.commission_ledger where payout_month = ?)
                   from published.monthly_payouts where payout_month = ?""",
                [month, month],
            ).fetchone()
            totals = dict(
                conn.execute(
                    """select currency_code, cast(sum(net_payout_amount) as varchar)
                       from published.monthly_payouts where payout_month = ? group by 1 order by 1""",
                    [month],
                ).fetchall()
            )
            plan_versions = [
                r[0]
                for r in conn.execute(
                    """select distinct plan_id || '.v' || cast(plan_version as varchar)
                       from published.monthly_payouts where payout_month = ? and plan_id is not null order by 1""",
                    [month],
                ).fetchall()
            ]
            adjusted_months = [
                r[0].isoformat()
                for r in conn.execute(
                    """select distinct adjusted_month from published.commission_ledger
                       where payout_month = ? and adjusted_month is not null order by 1""",
                    [month],
                ).fetchall()
            ]
            manifest = {
                "run_id": run_id,
                "payout_month": month.isoformat(),
                "publication_version": publication_version,
                "code_version": version,
                "plan_versions_used": plan_versions,
                "prior_period_adjustments_for": adjusted_months,
                **sources,
                "checks": [
                    {"name": r.check_name, "passed": r.passed, "failing_count": r.failing_count} for r in results
                ],
                "replaces_publication_id": previous.publication_id if previous else None,
                "reopen_id": previous.reopen_id if previous else None,
            }
            conn.execute(
                """insert into audit.publications by name
                   select ? as publication_id, ? as payout_month, ? as run_id, ? as published_at,
                          ? as payout_rows, ? as ledger_lines, ? as payout_content_hash, ? as lines_content_hash,
                          ? as total_net_payout_by_currency, ? as manifest, ? as publication_version,
                          ? as reopen_id""",
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
                    publication_version,
                    previous.reopen_id if previous else None,
                ],
            )
            payout_rows += int(counts[0])
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    log.info("published %d month(s); %d closed month(s) left alone", len(to_publish), len(closed))
    return PublicationResult(tuple(to_publish), tuple(closed), tuple(results), payout_rows)


SERVING_SCHEMAS = ("published", "marts", "audit")
# Unpublished numbers stay out of the serving file: BI reads payouts from published.* only. The previews and
# the run history (every run's preview payouts, and the run-to-run diffs) are for engineers, in the warehouse.
SERVING_EXCLUDED = {
    ("marts", "fct_monthly_payouts"),
    ("marts", "fct_commission_ledger"),
    ("marts", "fct_payout_runs"),
    ("marts", "fct_payout_run_changes"),
}


def refresh_serving_database(conn: duckdb.DuckDBPyConnection, serving_path: Path) -> Path:
    """Write a fresh read-only copy of the published data for BI tools, then swap it in atomically.

    DuckDB lets only one process open a file for writing, and a writer blocks other processes from opening
    it at all. BI tools therefore never open the warehouse: they read `serving_path`, which is rebuilt as a
    new file next to it and renamed over the old one (an atomic rename on POSIX). A reader that already has
    the old file open keeps a consistent snapshot; the next connection sees the new one. Nobody ever sees a
    half-written month.
    """
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    # Copies left by a refresh that was killed half-way: the caller holds the warehouse run lock, so no other
    # refresh is writing one now, and no reader ever opens them.
    for leftover in serving_path.parent.glob(f".{serving_path.name}.*.tmp"):
        leftover.unlink(missing_ok=True)
    tmp = serving_path.with_name(f".{serving_path.name}.{datetime.now(UTC):%Y%m%d%H%M%S%f}.tmp")
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


def serving_is_current(conn: duckdb.DuckDBPyConnection, serving_path: Path) -> bool:
    """Whether the serving file holds every publication the warehouse has. It can lag only if a run died
    between committing a publication and swapping the new serving file in; a rerun then finds every month
    closed and must still refresh the serving file."""
    if not serving_path.exists():
        return False
    published = {r[0] for r in conn.execute("select publication_id from audit.publications").fetchall()}
    with duckdb.connect(str(serving_path), read_only=True) as serving:
        try:
            served = {r[0] for r in serving.execute("select publication_id from audit.publications").fetchall()}
        except duckdb.CatalogException:
            return False
    return served == published
