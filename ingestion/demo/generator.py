"""Entry point: simulate the demo company and land its source extracts.

Order matters and mirrors the dependencies between source systems: HR first (who exists when), then the CRM
(deals owned by those people), then billing (driven by the deals that ended up won), then the quota sheet
(built from the HR hierarchy) and FX. Each subsystem draws from its own seeded random stream, so the output
is a pure function of the config.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ingestion.contracts import CONTRACTS
from ingestion.demo.billing import write_billing
from ingestion.demo.config import CompanyConfig
from ingestion.demo.crm import CrmGenerator
from ingestion.demo.fx import write_fx_rates
from ingestion.demo.hr import build_workforce, write_hr
from ingestion.demo.salesops import write_quotas
from ingestion.demo.writers import ExtractWriter


@dataclass
class GenerationSummary:
    """What one run wrote: rows per contract (`<source>__<entity>`) and every file, sorted."""

    config: CompanyConfig
    landing_dir: Path
    rows: dict[str, int]
    files: list[Path]
    horizon_start: date
    horizon_end: date
    seconds: float = field(default=0.0, compare=False)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def files_for(self, entity: str) -> list[Path]:
        """Files of one contract name, e.g. `crm__opportunities`."""
        source, name = entity.split("__", 1)
        folder = self.landing_dir / source / name
        return [f for f in self.files if f.parent == folder]

    def format(self) -> str:
        lines = [
            f"demo company: {self.config.payees} payees, {self.config.months} months "
            f"({self.horizon_start} .. {self.horizon_end}), seed {self.config.seed}",
            f"landing dir: {self.landing_dir}",
            f"{'entity':<32}{'files':>7}{'rows':>12}",
        ]
        for name in sorted(self.rows):
            lines.append(f"{name:<32}{len(self.files_for(name)):>7}{self.rows[name]:>12,}")
        lines.append(f"{'total':<32}{len(self.files):>7}{self.total_rows:>12,}")
        lines.append(f"generated in {self.seconds:.1f}s")
        return "\n".join(lines)


def entity_folders(landing_dir: Path) -> list[Path]:
    """The folders the generator owns under a landing dir (one per contract)."""
    return [landing_dir / c.source / c.entity for c in CONTRACTS]


def generate_company(config: CompanyConfig, landing_dir: Path, *, spill_threshold: int = 250_000) -> GenerationSummary:
    """Simulate the company described by `config` and write its extracts under `landing_dir`.

    Files land in `<landing_dir>/<source>/<entity>/<entity>_<YYYY-MM>.<ext>`. Refuses to write into an entity
    folder that already holds files, so a rerun can never silently mix two companies (the CLI's `--overwrite`
    clears those folders first). `spill_threshold` is how many encoded rows are buffered in memory before
    they are appended to scratch files under `landing_dir` (it changes memory use, never the output).
    """
    started = time.perf_counter()
    landing_dir = Path(landing_dir)
    occupied = [f for f in entity_folders(landing_dir) if f.is_dir() and any(f.iterdir())]
    if occupied:
        raise FileExistsError(f"entity folders are not empty: {', '.join(str(f) for f in occupied)}")
    landing_dir.mkdir(parents=True, exist_ok=True)

    writer = ExtractWriter(landing_dir, spill_threshold=spill_threshold)
    try:
        workforce = build_workforce(config)
        write_hr(workforce, writer)
        crm = CrmGenerator(config, workforce, writer)
        crm.write_users()
        crm.build_accounts()
        crm.generate_opportunities()
        write_billing(config, crm.accounts, crm.won, writer)
        write_quotas(config, workforce, writer)
        write_fx_rates(config, writer)
        files = writer.finalize()
    finally:
        writer.discard_spool()
    return GenerationSummary(
        config=config,
        landing_dir=landing_dir,
        rows=dict(writer.counts),
        files=files,
        horizon_start=config.horizon_start,
        horizon_end=config.horizon_end,
        seconds=time.perf_counter() - started,
    )
