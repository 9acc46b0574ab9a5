"""`python -m ingestion.scale`: land a scale company's source extracts (see `ingestion/scale/__init__.py`).

python -m ingestion.scale --payees 1000 --credit-lines-per-month 1000000 --months 13 --out data/x --seed 7
python -m ingestion.scale ... --only-months 13          # just the 13th month's files
python -m ingestion.scale ... --day 2027-01-01          # "a day's new data" (files named by the day)
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from ingestion.scale.config import ScaleConfig
from ingestion.scale.generator import generate, land_day


def _month(text: str) -> date:
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingestion.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--payees", type=int, required=True, help="distinct workers in the horizon (all are payees)")
    parser.add_argument(
        "--credit-lines-per-month", type=int, required=True, help="target rows of int_payee_credits per credit month"
    )
    parser.add_argument("--months", type=int, required=True, help="horizon length in months")
    parser.add_argument("--out", type=Path, required=True, help="landing folder to write into")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--start-month",
        type=_month,
        default=ScaleConfig.__dataclass_fields__["start_month"].default,
        metavar="YYYY-MM",
        help="first horizon month (default: %(default)s)",
    )
    parser.add_argument(
        "--lost-per-won",
        type=float,
        default=ScaleConfig.__dataclass_fields__["lost_per_won"].default,
        help="closed-lost deals per closed-won deal (default: %(default)s)",
    )
    parser.add_argument(
        "--no-creation-versions",
        action="store_true",
        help="land only closing versions (and edits), not each deal's creation version",
    )
    parser.add_argument(
        "--only-months",
        type=int,
        nargs="+",
        metavar="N",
        help="write only these horizon months (1-based); default: all",
    )
    parser.add_argument(
        "--day",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="instead of months, land the versions of this one day (the nightly increment)",
    )
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    parser.add_argument(
        "--parallel-months", type=int, default=2, help="months written at once, one cursor each (default: 2)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = ScaleConfig(
            payees=args.payees,
            credit_lines_per_month=args.credit_lines_per_month,
            months=args.months,
            seed=args.seed,
            start_month=args.start_month,
            lost_per_won=args.lost_per_won,
            creation_versions=not args.no_creation_versions,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.day is not None:
        report = land_day(config, args.out, args.day, threads=args.threads)
    else:
        report = generate(
            config, args.out, args.only_months, threads=args.threads, parallel_months=args.parallel_months
        )
    if args.json:
        print(
            json.dumps(
                {
                    "config": config.describe(),
                    "rows": report.rows,
                    "files": sum(len(v) for v in report.files.values()),
                    "total_rows": report.total_rows,
                    "bytes": sum(p.stat().st_size for items in report.files.values() for p, _ in items),
                    "seconds": round(report.seconds, 3),
                    "setup_seconds": round(report.setup_seconds, 3),
                }
            )
        )
    else:
        print(report.format())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
