"""`spm`: the command-line entry point for running the platform on the embedded default.

    spm demo                  generate the demo company (if the landing folder is empty), build and publish
                              every month of it in one run, print a summary
    spm preview 2026-11       build the month's payout preview without publishing (the nightly run)
    spm close [2026-10]       close a month: build and publish it if every blocking check passes
                              (default: last month; the month-close schedule does the same)
    spm publish 2025-01 2025-03   build and publish a range of months in one run (a backfill); closed
                              months in the range are left alone
    spm reopen 2025-02 --reason "..."   reopen a closed month (recorded: who, when, why); publishing it
                              again creates a new version and keeps the old one queryable
    spm diff 2026-10 [RUN_A RUN_B]  which payees' payouts changed between two runs of a month, and why
    spm summary               print what is published

Runs are recorded in the Dagster instance under DAGSTER_HOME (the repository by default), so they show up in
the Dagster UI (`make ui`).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, REPO_ROOT, Settings


def _month(value: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01" if len(value) == 7 else value).replace(day=1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {value!r}") from None


def _prepare_environment() -> None:
    """Use the repository's dagster.yaml and keep Dagster's own files in the git-ignored .dagster_home/."""
    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT))
    os.environ.setdefault("SPM_DAGSTER_STORAGE_DIR", str(REPO_ROOT / ".dagster_home"))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        subprocess.run([str(Path(sys.executable).parent / "dbt"), "parse", "--quiet"], cwd=DBT_PROJECT_DIR, check=True)


def _run(job: str, first: date, last: date, *, acknowledge: list[str], log_dir: Path) -> bool:
    """Run the job in-process; dbt's progress output goes to a log file, failures to the terminal and to the
    alert hook (the run-failure sensor only sees runs launched through the Dagster daemon)."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.runs import publication_run_config, run_job_for_months

    run_config = publication_run_config(acknowledge=acknowledge) if job == "publish_month_job" else {}
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{job}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    print(f"progress log: {log_path}")
    with dg.DagsterInstance.get() as instance, log_path.open("w") as log, contextlib.redirect_stdout(log):
        result = run_job_for_months(
            defs,
            job,
            first,
            last,
            instance=instance,
            run_config=run_config,
            log_level=os.environ.get("SPM_LOG_LEVEL", "WARNING"),
        )
    if not result.success:
        from orchestration.lib.alerts import send_alert
        from orchestration.lib.run_failures import describe, step_failures

        failures = step_failures(result.all_events)
        print(f"\n{describe(failures)}\nfull log: {log_path}", file=sys.stderr)
        send_alert(
            f"SPM run failed: {job} for {first:%Y-%m} to {last:%Y-%m} (run {result.run_id})\n{describe(failures)}",
            {
                "run_id": result.run_id,
                "job_name": job,
                "partition_start": first.isoformat(),
                "partition_end": last.isoformat(),
                "failed_steps": [f.step for f in failures],
                "step_errors": {f.step: f.message for f in failures},
            },
            webhook_url=Settings.from_env().alert_webhook_url,
        )
    return result.success


def print_summary(settings: Settings) -> bool:
    """Print what is published, from the serving file BI reads: never the warehouse, which a run may be writing
    (DuckDB lets no reader in while a writer holds the file). Returns False when nothing is published yet."""
    import duckdb

    if not settings.serving_path.exists():
        print(f"nothing published yet ({settings.serving_path} does not exist): run `spm demo` or `spm close`")
        return False
    with duckdb.connect(str(settings.serving_path), read_only=True) as conn:
        has_published = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'published'"
        ).fetchone()[0]
        if not has_published:
            print("no month published yet")
            return False
        months = conn.execute(
            "select min(payout_month), max(payout_month), count(distinct payout_month), count(distinct employee_id)"
            " from published.monthly_payouts"
        ).fetchone()
        totals = conn.execute(
            "select currency_code, sum(net_payout_amount), count(*) from published.monthly_payouts"
            " group by 1 order by 1"
        ).fetchall()
        checks = conn.execute(
            """select count(*), count(*) filter (where passed) from audit.check_results
               where run_id = (select run_id from audit.publications order by published_at desc limit 1)"""
        ).fetchone()
        lines = conn.execute("select count(*) from published.commission_ledger").fetchone()[0]
    print("\n=== SPM platform: published payouts ===")
    print(f"months published : {months[2]} ({months[0]:%Y-%m} .. {months[1]:%Y-%m})")
    print(f"payees           : {months[3]}")
    print(f"ledger lines     : {lines:,}")
    print("total net payout :")
    for currency, amount, rows in totals:
        print(f"    {currency} {amount:>16,.2f}   ({rows} payee-months)")
    print(f"checks passed    : {checks[1]} of {checks[0]} blocking checks in the latest publication run")
    print("\nwhere to look next:")
    print(f"  payout table   : published.monthly_payouts in {settings.serving_path}")
    print("  explanations   : published.commission_ledger (column `explanation`)")
    print(f"  query it       : duckdb -readonly {settings.serving_path}")
    print("  Dagster UI     : make ui   (then open http://127.0.0.1:3000)")
    return True


def _last_month() -> date:
    first_of_this_month = date.today().replace(day=1)
    return (first_of_this_month - timedelta(days=1)).replace(day=1)


def reopen(settings: Settings, month: date, *, reason: str, reopened_by: str) -> int:
    """Record the reopening under the warehouse lock: it writes, so it must not overlap a run."""
    import duckdb

    from orchestration.lib.run_lock import WarehouseBusy, WarehouseRunLock
    from orchestration.publication.publish import MonthCloseError, reopen_month

    try:
        with (
            WarehouseRunLock(settings.warehouse_path, run_id=f"reopen-{month:%Y-%m}", job_name="spm reopen"),
            duckdb.connect(str(settings.warehouse_path)) as conn,
        ):
            reopen_id = reopen_month(conn, month, reopened_by=reopened_by, reason=reason)
    except (MonthCloseError, WarehouseBusy) as exc:
        print(f"not reopened: {exc}", file=sys.stderr)
        return 1
    print(f"{month:%Y-%m} reopened (reopen id {reopen_id}) by {reopened_by}: {reason}")
    print(f"publish it again with `spm publish {month:%Y-%m}`; the current version stays in published.superseded_*")
    return 0


def diff(settings: Settings, month: date, base_run: str | None, run: str | None) -> int:
    import duckdb

    from orchestration.publication.run_diff import diff_runs, runs_of_month

    try:
        conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    except duckdb.IOException as exc:
        # the run history holds unpublished numbers, so it is only in the warehouse, which a run may be writing
        print(f"cannot read the warehouse now (a run is writing it?): {exc}", file=sys.stderr)
        return 1
    with conn:
        runs = runs_of_month(conn, month)
        if (base_run is None) != (run is None):
            print("give both runs, or neither (the last two runs of the month)", file=sys.stderr)
            return 2
        if base_run is None:
            if len(runs) < 2:
                print(f"{month:%Y-%m} was built by {len(runs)} run(s); a diff needs two", file=sys.stderr)
                return 1
            base_run, run = runs[-2].run_id, runs[-1].run_id
        try:
            changes = diff_runs(conn, month, base_run, run)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 1
    print(f"{month:%Y-%m}: run {run} against run {base_run}: {len(changes)} payee(s) changed")
    for c in changes:
        before = "-" if c.base_net_payout_amount is None else f"{c.base_net_payout_amount:,.2f}"
        after = "-" if c.net_payout_amount is None else f"{c.net_payout_amount:,.2f}"
        print(
            f"  {c.employee_id}  {before:>12} -> {after:>12} {c.currency_code}  "
            f"({c.net_payout_change:+,.2f})  because: {c.change_reasons}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="spm", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate demo data if needed, build and publish every month of it")
    demo.add_argument("--payees", type=int, default=200)
    demo.add_argument("--months", type=int, default=24)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--start-month", type=_month, default=date(2024, 11, 1))
    acknowledge = argparse.ArgumentParser(add_help=False)
    acknowledge.add_argument(
        "--acknowledge",
        action="append",
        default=[],
        metavar="YYYY-MM",
        help="accept this month's month-over-month payout change (repeatable)",
    )
    publish = sub.add_parser("publish", help="build and publish months in one run", parents=[acknowledge])
    publish.add_argument("first", type=_month)
    publish.add_argument("last", type=_month, nargs="?")
    close = sub.add_parser("close", help="build and publish one month (default: last month)", parents=[acknowledge])
    close.add_argument("month", type=_month, nargs="?")
    preview = sub.add_parser("preview", help="build without publishing")
    preview.add_argument("first", type=_month)
    preview.add_argument("last", type=_month, nargs="?")
    reopen_parser = sub.add_parser("reopen", help="reopen a closed month (recorded: who, when, why)")
    reopen_parser.add_argument("month", type=_month)
    reopen_parser.add_argument("--reason", required=True, help="why the month is reopened (recorded)")
    reopen_parser.add_argument("--by", default=None, help="who reopens it (default: the login name)")
    diff_parser = sub.add_parser("diff", help="payees whose payout changed between two runs of a month, and why")
    diff_parser.add_argument("month", type=_month)
    diff_parser.add_argument("runs", nargs="*", metavar="RUN_ID", help="base run and run (default: the last two)")
    sub.add_parser("summary", help="print what is published")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    _prepare_environment()
    started = time.monotonic()
    log_dir = settings.data_dir / "logs"

    if args.command == "summary":
        print_summary(settings)
        return 0
    if args.command == "reopen":
        return reopen(settings, args.month, reason=args.reason, reopened_by=args.by or getpass.getuser())
    if args.command == "diff":
        if len(args.runs) not in (0, 2):
            parser.error("diff takes a month and either no run id or two run ids")
        return diff(settings, args.month, *(args.runs or [None, None]))
    if args.command == "demo":
        from ingestion.demo.config import CompanyConfig
        from ingestion.demo.generator import generate_company

        config = CompanyConfig(seed=args.seed, payees=args.payees, months=args.months, start_month=args.start_month)
        if not settings.landing_dir.exists() or not any(settings.landing_dir.iterdir()):
            print(f"generating demo company ({config.payees} payees, {config.months} months) in {settings.landing_dir}")
            generate_company(config, settings.landing_dir)
        else:
            print(f"using existing landing files in {settings.landing_dir}")
        first, last = config.horizon_start, config.month_starts()[-1]
        print(f"building and publishing {first:%Y-%m} .. {last:%Y-%m} in one run")
        ok = _run("publish_month_job", first, last, acknowledge=[], log_dir=log_dir)
    elif args.command == "close":
        month = args.month or _last_month()
        print(f"closing {month:%Y-%m}")
        ok = _run("publish_month_job", month, month, acknowledge=args.acknowledge, log_dir=log_dir)
    else:
        job = "publish_month_job" if args.command == "publish" else "nightly_preview_job"
        acknowledged = getattr(args, "acknowledge", [])
        ok = _run(job, args.first, args.last or args.first, acknowledge=acknowledged, log_dir=log_dir)
    print(f"\n{'finished' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    if ok and args.command in ("demo", "publish", "close"):
        print_summary(settings)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
