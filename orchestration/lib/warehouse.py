"""Dagster resources: the DuckDB warehouse and the platform's paths and policies.

Connections are opened per step and closed before dbt runs, because DuckDB allows a single writing process
per file and dbt runs in a subprocess.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb


class WarehouseResource(dg.ConfigurableResource):
    """Path of the DuckDB warehouse file (the same file the dbt profile writes)."""

    path: str

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = duckdb.connect(self.path, read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()


class PlatformResource(dg.ConfigurableResource):
    """Where sources land, where plans live, where BI reads, and the publication policy."""

    landing_dir: str
    plans_dir: str
    serving_path: str
    max_payout_change_ratio: float = 0.5
    future_tolerance_days: float = 1.0
    connectors_state_dir: str = ""
    """dlt pipeline state of the SQL / HTTP connectors (only used when connectors are configured)."""
