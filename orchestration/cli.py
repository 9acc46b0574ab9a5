"""`spm`: the command-line entry point for running the platform on the embedded default.

    spm demo                  generate the demo company (if the landing folder is empty), build and publish
                              every closed month in one run, print a summary
    spm publish 2025-01 2025-03   build and publish a range of months (one run)
    spm preview 2026-11       build the month's payout preview without publishing
    spm summary               print what is published

Runs are recorded in the Dagster instance under DAGSTER_HOME (the repository by default), so they show up in
the Dagster UI (`make ui`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from datetime import date
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


def _run(job: str, first: date, last: date, *, acknowledge: list[str], republish: bool, log_dir: Path) -> bool:
    """Run the job in-process; dbt's progress output goes to a log file, failures to the terminal."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.runs import publication_run_config, run_job_for_months

    run_config = (
        publication_run_config(republish=republish, acknowledge=acknowledge) if job == "publish_month_job" else {}
    )
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
        for event in result.all_events:
            if event.event_type_value == "STEP_FAILURE":
                error = event.event_specific_data.error
                print(
                    f"\nstep {event.step_key} failed:\n{error.message if error else event.message}",
                    file=sys.stderr,
                )
    return result.success


def print_summary(settings: Settings) -> None:
    import duckdb

    if not settings.warehouse_path.exists():
        print("nothing built yet: run `spm demo`")
        return
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        has_published = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'published'"
        ).fetchone()[0]
        if not has_published:
            print("no month published yet")
            return
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="spm", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate demo data if needed, build and publish every closed month")
    demo.add_argument("--payees", type=int, default=200)
    demo.add_argument("--months", type=int, default=24)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--start-month", type=_month, default=date(2024, 11, 1))
    for name, help_text in (
        ("publish", "build and publish months (one run)"),
        ("preview", "build without publishing"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("first", type=_month)
        p.add_argument("last", type=_month, nargs="?")
        if name == "publish":
            p.add_argument(
                "--acknowledge",
                action="append",
                default=[],
                metavar="YYYY-MM",
                help="accept this month's month-over-month payout change (repeatable)",
            )
            p.add_argument(
                "--republish",
                action="store_true",
                help="explicitly replace already-published months whose numbers changed",
            )
    sub.add_parser("summary", help="print what is published")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    _prepare_environment()
    started = time.monotonic()

    if args.command == "summary":
        print_summary(settings)
        return 0
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
        ok = _run("publish_month_job", first, last, acknowledge=[], republish=False, log_dir=settings.data_dir / "logs")
    else:
        last = args.last or args.first
        job = "publish_month_job" if args.command == "publish" else "nightly_preview_job"
        ok = _run(
            job,
            args.first,
            last,
            acknowledge=getattr(args, "acknowledge", []),
            republish=getattr(args, "republish", False),
            log_dir=settings.data_dir / "logs",
        )
    print(f"\n{'finished' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    if ok and args.command in ("demo", "publish"):
        print_summary(settings)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
