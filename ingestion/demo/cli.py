"""`spm-demo-data` / `python -m ingestion.demo.cli`: land a demo company's source extracts.

The CLI is deliberately conservative with the filesystem: it refuses to write into a non-empty output folder
unless `--overwrite` is given, and even then deletes only the per-entity folders the generator owns
(`<out>/<source>/<entity>`, plus leftover scratch folders of an interrupted run), never anything else in --out
and never anything outside it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from ingestion.demo.config import CompanyConfig
from ingestion.demo.generator import entity_folders, generate_company

_DEFAULTS = CompanyConfig()


def _year_month(text: str) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spm-demo-data",
        description="Generate a seeded, deterministic demo company as monthly source extracts.",
    )
    parser.add_argument("--out", type=Path, default=Path("data/landing"), help="landing folder (default: %(default)s)")
    parser.add_argument("--payees", type=int, default=_DEFAULTS.payees, help="workers (default: %(default)s)")
    parser.add_argument("--months", type=int, default=_DEFAULTS.months, help="horizon length (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=_DEFAULTS.seed, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--start-month",
        type=_year_month,
        default=_DEFAULTS.start_month,
        metavar="YYYY-MM",
        help=f"first month of the horizon (default: {_DEFAULTS.start_month:%Y-%m})",
    )
    parser.add_argument(
        "--deals-per-payee",
        type=float,
        default=_DEFAULTS.deals_per_payee_per_month,
        help="mean opportunities per account executive per month (default: %(default)s)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace previously generated entity folders in --out (nothing else is deleted)",
    )
    return parser


def clear_generated(out: Path) -> list[Path]:
    """Delete the generator-owned folders under `out`; return what was removed."""
    removed = []
    targets = [f for f in entity_folders(out) if f.exists()] + sorted(out.glob(".demo-spool-*"))
    for folder in targets:
        if folder.is_symlink() or not folder.is_dir():
            raise SystemExit(f"error: refusing to delete {folder}: not a plain directory")
        shutil.rmtree(folder)
        removed.append(folder)
    for source_dir in sorted({f.parent for f in entity_folders(out)}):
        if source_dir.is_dir() and not source_dir.is_symlink() and not any(source_dir.iterdir()):
            source_dir.rmdir()
    return removed


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = CompanyConfig(
            seed=args.seed,
            payees=args.payees,
            months=args.months,
            start_month=args.start_month,
            deals_per_payee_per_month=args.deals_per_payee,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        parser.error(f"invalid configuration: {problems}")

    out: Path = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not args.overwrite:
            print(
                f"error: {out} is not empty; pass --overwrite to replace the generated folders in it",
                file=sys.stderr,
            )
            return 2
        clear_generated(out)
    summary = generate_company(config, out)
    print(summary.format())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
