"""Ingestion assets: one per source entity, landing folder -> raw layer, plus the plans-as-code loader.

Thin wrappers: the loading logic lives in `ingestion/` (no Dagster imports) so it is testable alone. Each
asset reports its quarantine as a (non-blocking) asset check; the payout gate blocks publication while a
payout-relevant quarantined row is unresolved. Every asset that writes the warehouse requires `run_lock`, so a
run holds the warehouse lock (orchestration/lib/run_lock.py) from its start and a second writing run fails fast.
"""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

import dagster as dg

from ingestion.contracts import CONTRACTS, SourceContract
from ingestion.loader import check_landing_folder, ensure_raw_tables, load_entity
from ingestion.plans import load_plans
from orchestration.lib.run_lock import RunLockResource
from orchestration.lib.warehouse import PlatformResource, WarehouseResource

WRITER_POOL = "duckdb_writer"
LANDING_FOLDER = dg.AssetKey(["raw", "landing_folder"])


@dg.asset(
    key=LANDING_FOLDER,
    group_name="ingestion",
    description=(
        "Every file in the landing folder lies in a source entity's folder (`<source>/<entity>/`). A file "
        "anywhere else (a mistyped folder, a file left in the root) would never be loaded nor reported: it fails "
        "the run here, naming the file, and is recorded in raw._refused_files. Every entity's loader refuses "
        "the files in its own folder it cannot read (another format, a subfolder) the same way."
    ),
    kinds={"duckdb"},
    pool=WRITER_POOL,
)
def landing_folder(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    platform: PlatformResource,
    run_lock: RunLockResource,  # unused: requiring it makes the run hold the warehouse lock
) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        check_landing_folder(conn, Path(platform.landing_dir), CONTRACTS)
    return dg.MaterializeResult(metadata={"landing_dir": platform.landing_dir})



def _ingestion_asset(contract: SourceContract, deps: Sequence[dg.AssetKey] = ()) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", contract.name])
    check = dg.AssetCheckSpec(
        name="no_rows_quarantined",
        asset=key,
        description=(
            "No row of this source entity sits in raw._quarantine "
            "(a warning here; the payout gate blocks on payout-relevant ones)."
        ),
    )

    @dg.asset(
        key=key,
        group_name="ingestion",
        description=f"{contract.description} Landed as `{contract.landing_glob}`, loaded into {contract.raw_table}.",
        kinds={"duckdb", contract.file_format},
        pool=WRITER_POOL,
        check_specs=[check],
        deps=[LANDING_FOLDER, *deps],
    )
    def _load(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        platform: PlatformResource,
        run_lock: RunLockResource,  # unused: requiring it makes the run hold the warehouse lock
    ):
        landing_dir = Path(platform.landing_dir)
        with warehouse.connect() as conn:
            ensure_raw_tables(conn, [contract])
            result = load_entity(
                conn, landing_dir, contract, future_tolerance=timedelta(days=platform.future_tolerance_days)
            )
            quarantined_total, sample = conn.execute(
                """select count(*), list(record_key || ' (' || rule || ')' order by source_file, source_row)[1:5]
                   from raw._quarantine where entity = ?""",
                [contract.name],
            ).fetchone()
        yield dg.MaterializeResult(
            metadata={
                "files_loaded": len(result.files_loaded),
                "files_skipped": len(result.files_skipped),
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_restated": result.rows_restated,
                "rows_duplicate": result.rows_duplicate,
                "rows_quarantined": result.rows_quarantined,
                "unexpected_columns": dg.MetadataValue.json(result.unexpected_columns),
                "files_in_flight": dg.MetadataValue.json(result.files_in_flight),
            }
        )
        yield dg.AssetCheckResult(
            check_name="no_rows_quarantined",
            passed=quarantined_total == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "quarantined_rows_total": int(quarantined_total),
                "sample": dg.MetadataValue.json(list(sample or [])),
            },
        )

    return _load


def build_ingestion_assets(upstreams: Mapping[str, Sequence[dg.AssetKey]] | None = None) -> list[dg.AssetsDefinition]:
    """One raw asset per contract; `upstreams` adds the connector assets that land an entity's files."""
    upstreams = upstreams or {}
    return [_ingestion_asset(c, upstreams.get(c.name, ())) for c in CONTRACTS]


ingestion_assets = build_ingestion_assets()

# The loader's file log (raw._loaded_files) is written by every ingestion asset as part of its load; the
# incremental engine models read it to find what they have not seen yet (docs/incremental.md). Declared as an
# external asset so it sits in the ingestion group and the lineage shows where it comes from.
loader_log_spec = dg.AssetSpec(
    dg.AssetKey(["raw", "loaded_files"]),
    group_name="ingestion",
    kinds={"duckdb"},
    description="raw._loaded_files: one row per landed file loaded (entity, load id, when, row counts).",
    deps=[dg.AssetKey(["raw", c.name]) for c in CONTRACTS],
)

PLAN_TABLES = (
    "plans__plan_versions",
    "plans__plan_tiers",
    "plans__plan_credit_types",
    "plans__plan_bonuses",
    "plans__assignments",
)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(["raw", table]),
            group_name="ingestion",
            kinds={"duckdb", "yaml"},
            description=f"Plans as code: {table.removeprefix('plans__')} from the plans/ folder.",
        )
        for table in PLAN_TABLES
    ],
    pool=WRITER_POOL,
)
def compensation_plans(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    platform: PlatformResource,
    run_lock: RunLockResource,  # unused: requiring it makes the run hold the warehouse lock
):
    """Validate plans/*.yaml and assignments.yaml, then append new plan versions (immutable once loaded)."""
    plans_dir = Path(platform.plans_dir)
    with warehouse.connect() as conn:
        result = load_plans(conn, plans_dir)
    for table in PLAN_TABLES:
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["raw", table]),
            metadata={
                "plan_versions": ", ".join(result.plan_versions),
                "plan_versions_added": result.plan_versions_added,
            },
        )
