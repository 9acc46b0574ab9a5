"""One published baseline per session; every fault case breaks its own copy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .installation import Installation, build_baseline, copy_installation


@pytest.fixture(scope="session")
def published_baseline(
    tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path, small_company_landing: Path
) -> Installation:
    return build_baseline(tmp_path_factory.mktemp("fault_baseline") / "data", small_company_landing)


@pytest.fixture
def installation(published_baseline: Installation, tmp_path: Path, monkeypatch) -> Iterator[Installation]:
    # the dbt subprocess reads the warehouse path from the environment (build_definitions pins it); restore it
    monkeypatch.setenv("SPM_WAREHOUSE_PATH", str(published_baseline.warehouse_path))
    yield copy_installation(published_baseline, tmp_path / "data")
