"""The DuckDB warehouse as a Dagster resource.

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
