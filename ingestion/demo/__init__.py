"""Seeded, deterministic demo source data for the SPM platform (SPEC §2).

`generate_company(CompanyConfig(...), landing_dir)` simulates a believable sales organisation (HR, CRM,
billing, quota sheet, FX) and lands it as monthly incremental extracts in exactly the shapes of
`ingestion.contracts`. The CLI is `python -m ingestion.demo.cli` (installed as `spm-demo-data`).
"""

from ingestion.demo.config import CompanyConfig
from ingestion.demo.generator import GenerationSummary, generate_company

__all__ = ["CompanyConfig", "GenerationSummary", "generate_company"]
