"""A BI reader, run as a separate process by tests/pipeline/test_close_guarantees.py.

    python bi_reader.py SERVING_PATH STOP_FILE READY_FILE REPORT_FILE

It behaves like a dashboard refreshing in a loop: every iteration opens a *fresh* read-only connection to the
serving file (DuckDB caches open databases per process, so reusing one would not see a swapped file), checks
that every published month is complete, and closes it. It stops after the first iteration that *started* once
STOP_FILE exists (so its last iteration sees the final state), then writes a JSON report to REPORT_FILE.

It imports nothing from the platform: it only knows the serving path, as a BI tool does.
"""

from __future__ import annotations

import json
import os
import sys
import time

import duckdb

# For every month with payout rows: its rows, its ledger lines and the current publication's manifest counts
# (the current publication is the month's latest row in audit.publications).
MONTH_CHECK = """
with current_publication as (
    select payout_month, publication_id, payout_rows, ledger_lines
    from audit.publications
    qualify row_number() over (partition by payout_month order by published_at desc) = 1
),
payouts as (
    select p.payout_month, count(*) as payout_rows,
           count(*) filter (where p.publication_id is distinct from c.publication_id) as foreign_rows
    from published.monthly_payouts as p
    left join current_publication as c using (payout_month)
    group by 1
),
lines as (
    select l.payout_month, count(*) as ledger_lines, sum(l.amount) as ledger_total,
           count(*) filter (where l.publication_id is distinct from c.publication_id) as foreign_lines
    from published.commission_ledger as l
    left join current_publication as c using (payout_month)
    group by 1
)
select p.payout_month, p.payout_rows, p.foreign_rows,
       coalesce(l.ledger_lines, 0), l.ledger_total, coalesce(l.foreign_lines, 0),
       c.publication_id, c.payout_rows, c.ledger_lines
from payouts as p
left join lines as l using (payout_month)
left join current_publication as c using (payout_month)
order by p.payout_month
"""
PUBLISHED_MONTHS = "select distinct payout_month from audit.publications order by 1"
ATTACHED_FILES = "select path from duckdb_databases() where path is not null"

MAX_RECORDED = 50  # errors / inconsistencies kept verbatim (all are counted)
PAUSE_SECONDS = 0.2  # between iterations (~25 ms each): three readers must not starve the pipeline on 2 cores
MAX_RUNTIME_SECONDS = 1800  # a reader never outlives a crashed test by long


def open_database_files() -> set[str] | None:
    """Every DuckDB-looking file this process has open right now (Linux /proc), or None when unknowable."""
    fd_dir = "/proc/self/fd"
    if not os.path.isdir(fd_dir):
        return None
    paths = set()
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        target = target.removesuffix(" (deleted)")  # the old serving file after a swap
        if target.endswith((".duckdb", ".wal", ".tmp")):
            paths.add(os.path.realpath(target))
    return paths


def check_once(serving_path: str) -> tuple[list[str], list[str], set[str]]:
    """One dashboard refresh: (months seen, inconsistencies, database files opened)."""
    conn = duckdb.connect(serving_path, read_only=True)
    try:
        rows = conn.execute(MONTH_CHECK).fetchall()
        audited_months = [r[0] for r in conn.execute(PUBLISHED_MONTHS).fetchall()]
        files = {os.path.realpath(r[0]) for r in conn.execute(ATTACHED_FILES).fetchall()}
        files |= open_database_files() or set()
    finally:
        conn.close()

    months = [r[0].isoformat() for r in rows]
    problems = []
    if months != [m.isoformat() for m in audited_months]:
        problems.append(f"months with payout rows {months} != months in audit.publications {audited_months}")
    for month, payouts, foreign_rows, lines, total, foreign_lines, publication_id, want_payouts, want_lines in rows:
        where = f"{month:%Y-%m} (publication {publication_id})"
        if payouts != want_payouts:
            problems.append(f"{where}: {payouts} payout rows, the publication manifest says {want_payouts}")
        if lines != want_lines:
            problems.append(f"{where}: {lines} ledger lines, the publication manifest says {want_lines}")
        if total is None or total != 0:
            problems.append(f"{where}: ledger lines sum to {total}, not 0")
        if foreign_rows or foreign_lines:
            problems.append(f"{where}: {foreign_rows} payout rows / {foreign_lines} lines of another publication")
    return months, problems, files


def main(serving_path: str, stop_file: str, ready_file: str, report_file: str) -> None:
    report = {
        "pid": os.getpid(),
        "serving_path": os.path.realpath(serving_path),
        "iterations": 0,
        "error_count": 0,
        "errors": [],
        "inconsistency_count": 0,
        "inconsistencies": [],
        "states": {},  # "2025-01-01,2025-02-01" -> {"iterations", "first_seen", "last_seen"} (epoch seconds)
        "files_opened": set(),
        "max_latency_seconds": 0.0,
        "timed_out": False,
    }
    deadline = time.monotonic() + MAX_RUNTIME_SECONDS
    while True:
        stopping = os.path.exists(stop_file)  # checked before the iteration: the last one starts after the stop
        started_at, started = time.time(), time.perf_counter()
        try:
            months, problems, files = check_once(serving_path)
        except Exception as exc:
            report["error_count"] += 1
            if len(report["errors"]) < MAX_RECORDED:
                report["errors"].append(f"{type(exc).__name__}: {exc}")
        else:
            report["files_opened"] |= files
            if problems:
                report["inconsistency_count"] += len(problems)
                room = MAX_RECORDED - len(report["inconsistencies"])
                report["inconsistencies"] += [f"at {started_at:.3f}: {p}" for p in problems[:room]]
            state = report["states"].setdefault(
                ",".join(months), {"iterations": 0, "first_seen": started_at, "last_seen": started_at}
            )
            state["iterations"] += 1
            state["last_seen"] = started_at
        report["max_latency_seconds"] = max(report["max_latency_seconds"], time.perf_counter() - started)
        report["iterations"] += 1
        if report["iterations"] == 1:
            with open(ready_file, "w") as f:
                f.write(str(os.getpid()))
        if stopping:
            break
        if time.monotonic() > deadline:
            report["timed_out"] = True
            break
        time.sleep(PAUSE_SECONDS)

    report["files_opened"] = sorted(report["files_opened"])
    with open(report_file + ".part", "w") as f:
        json.dump(report, f, indent=2)
    os.replace(report_file + ".part", report_file)


if __name__ == "__main__":
    main(*sys.argv[1:5])
