"""Entry points: generate a horizon month by month, land one day of the open month."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from ingestion.scale.company import Company
from ingestion.scale.config import ScaleConfig
from ingestion.scale.extracts import ExtractWriter, Window, day_window, month_window


@dataclass
class ScaleReport:
    config: ScaleConfig
    out: Path
    files: dict[str, list[tuple[Path, int]]] = field(default_factory=dict)
    """Per contract name, the files written and their row counts."""
    seconds: float = 0.0
    setup_seconds: float = 0.0

    def add(self, written: list[tuple[str, Path, int]]) -> None:
        for name, path, rows in written:
            self.files.setdefault(name, []).append((path, rows))

    @property
    def rows(self) -> dict[str, int]:
        return {name: sum(rows for _, rows in items) for name, items in sorted(self.files.items())}

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def format(self) -> str:
        cfg = self.config
        lines = [
            f"scale company: {cfg.payees:,} payees, target {cfg.credit_lines_per_month:,} credit lines/month, "
            f"{cfg.months} months from {cfg.start_month:%Y-%m}, seed {cfg.seed}",
            f"  {cfg.won_deals_per_month:,} won + {cfg.lost_deals_per_month:,} lost deals/month, "
            f"{cfg.lines_per_won_deal:.3f} expected credit lines per won deal, out: {self.out}",
            f"{'entity':<32}{'files':>7}{'rows':>14}",
        ]
        for name, rows in self.rows.items():
            lines.append(f"{name:<32}{len(self.files[name]):>7}{rows:>14,}")
        lines.append(f"{'total':<32}{sum(len(v) for v in self.files.values()):>7}{self.total_rows:>14,}")
        rate = self.total_rows / self.seconds if self.seconds else 0
        lines.append(f"generated in {self.seconds:.1f} s (set-up {self.setup_seconds:.1f} s), {rate:,.0f} rows/s")
        return "\n".join(lines)


class ScaleSession:
    """One DuckDB connection holding a company's dimension tables; writes any window's extracts."""

    def __init__(self, config: ScaleConfig, out: Path, *, threads: int | None = None, memory_limit: str = "6GB"):
        self.config = config
        self.out = Path(out)
        self._tmp = Path(tempfile.mkdtemp(prefix="spm-scale-"))
        self.conn = duckdb.connect(config={"preserve_insertion_order": True})
        self.conn.execute(f"set temp_directory = '{self._tmp}'")
        self.conn.execute(f"set memory_limit = '{memory_limit}'")
        self.conn.execute("set enable_progress_bar = false")
        # Deal queries join a range()-derived pipeline (probe) to small dimension tables (build). When a filter
        # makes the deal side small, DuckDB 2.0.0 flips the sides and, at 10k payees, fails with an internal
        # "dict-surviving join ... build pipeline is not single-source" error. The written order is the right one.
        self.conn.execute("set disabled_optimizers = 'build_side_probe_side'")
        if threads:
            self.conn.execute(f"set threads = {int(threads)}")
        started = time.perf_counter()
        self.company = Company(config, self.conn)
        self.company.build()
        self.setup_seconds = time.perf_counter() - started
        self.writer = ExtractWriter(self.company, self.out)

    def close(self) -> None:
        self.conn.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def write(self, window: Window, entities: list[str] | None = None, writer=None) -> list[tuple[str, Path, int]]:
        written = (writer or self.writer).write_window(window, entities)
        return [(name, path, rows) for name, (path, rows) in written.items()]

    def write_month(self, index: int, *, own_cursor: bool = False) -> list[tuple[str, Path, int]]:
        """Horizon month `index` (1-based); month 1 also lands the FX lead-in month before the horizon.
        `own_cursor`: run on a fresh cursor of the session's database, so several months can be written from
        threads at once."""
        writer = ExtractWriter(self.company, self.out, self.conn.cursor()) if own_cursor else self.writer
        written = []
        if index == 1:
            written += self.write(month_window(self.config.fx_start), ["fx__rates"], writer)
        return written + self.write(month_window(self.config.month_start(index)), writer=writer)


@contextmanager
def session(config: ScaleConfig, out: Path, **kwargs):
    s = ScaleSession(config, out, **kwargs)
    try:
        yield s
    finally:
        s.close()


def generate(
    config: ScaleConfig,
    out: Path,
    months: Iterable[int] | None = None,
    *,
    threads: int | None = None,
    parallel_months: int = 2,
) -> ScaleReport:
    """Write the extracts of horizon months `months` (default: all of 1..config.months) under `out`.

    Files land in `<out>/<source>/<entity>/<entity>_<YYYY-MM>.<ext>`, one per entity per month with rows. The
    output is a pure function of `config`, so months can be written in separate calls (the benchmark lands
    the closed month separately) and agree with a single call. `parallel_months` months are written at once,
    each on its own cursor: DuckDB's CSV writing is partly sequential, and two months keep both cores of a
    2-core machine busy (about a third faster); memory stays within the session's limit.
    """
    started = time.perf_counter()
    report = ScaleReport(config, Path(out))
    indexes = list(range(1, config.months + 1) if months is None else months)
    for index in indexes:
        if not 1 <= index <= config.months:
            raise ValueError(f"month {index} is outside the horizon 1..{config.months}")
    with session(config, out, threads=threads) as s:
        report.setup_seconds = s.setup_seconds
        if parallel_months <= 1:
            for index in indexes:
                report.add(s.write_month(index))
        else:
            with ThreadPoolExecutor(max_workers=parallel_months) as pool:
                for written in pool.map(lambda index: s.write_month(index, own_cursor=True), indexes):
                    report.add(written)
    report.seconds = time.perf_counter() - started
    return report


def land_day(config: ScaleConfig, out: Path, day: date, *, threads: int | None = None) -> ScaleReport:
    """Land "a day's new data": every version with a timestamp on `day`, one extra file per changed entity
    named `<entity>_<YYYY-MM-DD>.<ext>` (new deals closing that day, deals created that day, edits, invoice
    events, FX rates of the day, ...).

    Meant for the open month after the horizon (config.months + 1), whose earlier days are assumed landed by
    earlier nightly runs; any day works, since every record is a pure function of the config.
    """
    started = time.perf_counter()
    report = ScaleReport(config, Path(out))
    with session(config, out, threads=threads) as s:
        report.setup_seconds = s.setup_seconds
        report.add(s.write(day_window(day)))
    report.seconds = time.perf_counter() - started
    return report
