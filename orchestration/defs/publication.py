"""Publication: the monthly payout table is written to `published.*` only if every blocking check passed.

The asset is the gate. It evaluates the SPEC §4 checks and the Great Expectations suite on the preview marts
for the run's months, reports each as an asset check, and either publishes all months atomically or fails
naming every failing check, its rule and sample offending keys - leaving published data exactly as it was.
After a publication the BI serving file is rebuilt and swapped in atomically.
"""

from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import Field

from orchestration.defs.ingestion import WRITER_POOL
from orchestration.lib.partitions import monthly_partitions, months_in_window
from orchestration.lib.run_lock import RunLockResource
from orchestration.lib.warehouse import PlatformResource, WarehouseResource
from orchestration.publication.gates import GATES, GateContext
from orchestration.publication.publish import (
    MonthCloseError,
    PublicationBlocked,
    publish_months,
    refresh_serving_database,
    serving_is_current,
)

PUBLISHED_PAYOUTS = dg.AssetKey(["published", "monthly_payouts"])
GX_CHECK = "great_expectations_payout_suite"


# What the publication step wrote, read back by dbt: the prior-period adjustments compare closed months with
# the published ledger, and the close status comes from the audit tables. They are written as a side effect
# of `published/monthly_payouts` (declaring them as its outputs would make a cycle through the marts), so
# they are declared here as external assets to place them in the publication group and the lineage.
published_state_specs = [
    dg.AssetSpec(
        key,
        group_name="publication",
        description=f"{description} Written by published/monthly_payouts; read by the prior-period adjustments.",
        kinds={"duckdb"},
    )
    for key, description in (
        (["published", "commission_ledger"], "Ledger lines of every published month (final once closed)."),
        (["audit", "publications"], "One manifest row per publication of a month."),
        (["audit", "month_reopenings"], "Explicit reopenings of closed months: who, when, why."),
    )
]


class PublicationConfig(dg.Config):
    acknowledge_payout_change_months: list[str] = Field(default_factory=list)
    """Months (YYYY-MM) whose month-over-month payout change was reviewed and accepted."""


@dg.asset(
    key=PUBLISHED_PAYOUTS,
    group_name="publication",
    deps=[dg.AssetKey(["marts", "fct_monthly_payouts"]), dg.AssetKey(["marts", "fct_commission_ledger"])],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WRITER_POOL,
    kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec(g.name, asset=PUBLISHED_PAYOUTS, description=g.rule, blocking=True) for g in GATES]
    + [
        dg.AssetCheckSpec(
            GX_CHECK,
            asset=PUBLISHED_PAYOUTS,
            blocking=True,
            description="Great Expectations suite on the payout rows being published.",
        )
    ],
    description="Published monthly payouts and their commission lines (finance pays from published.monthly_payouts).",
)
def published_monthly_payouts(
    context: dg.AssetExecutionContext,
    config: PublicationConfig,
    warehouse: WarehouseResource,
    platform: PlatformResource,
    run_lock: RunLockResource,  # unused: requiring it makes the run hold the warehouse lock
):
    window = context.partition_time_window
    ctx = GateContext(
        months=tuple(months_in_window(window.start, window.end)),
        max_payout_change_ratio=platform.max_payout_change_ratio,
        acknowledged_change_months=frozenset(
            date.fromisoformat(f"{m}-01") for m in config.acknowledge_payout_change_months
        ),
    )
    with warehouse.connect() as conn:
        try:
            result = publish_months(conn, ctx, run_id=context.run_id)
            blocked = None
        except PublicationBlocked as exc:
            result, blocked = None, exc
        except MonthCloseError as exc:
            raise dg.Failure(description=str(exc)) from None
        if result is not None and (
            result.months_published or not serving_is_current(conn, Path(platform.serving_path))
        ):
            refresh_serving_database(conn, Path(platform.serving_path))

    if blocked is None and not result.months_published:
        # every requested month is closed: nothing was evaluated because nothing is written
        for spec_name in [g.name for g in GATES] + [GX_CHECK]:
            yield dg.AssetCheckResult(
                check_name=spec_name,
                passed=True,
                metadata={"skipped": "every month of the run is closed; nothing was published"},
            )
        yield dg.MaterializeResult(
            metadata={"months_published": [], "months_closed_left_alone": [m.isoformat() for m in result.months_closed]}
        )
        return
    check_results = blocked.results if blocked else list(result.check_results)
    gx_results = [r for r in check_results if r.check_name.startswith("gx:")]
    for r in check_results:
        if r.check_name.startswith("gx:"):
            continue
        yield dg.AssetCheckResult(
            check_name=r.check_name,
            passed=r.passed,
            metadata={
                "rule": r.rule,
                "failing_count": r.failing_count,
                "sample_keys": dg.MetadataValue.json(list(r.sample_keys)),
            },
        )
    if gx_results or blocked is None:
        failing_gx = [r for r in gx_results if not r.passed]
        yield dg.AssetCheckResult(
            check_name=GX_CHECK,
            passed=not failing_gx,
            metadata={
                "expectations": len(gx_results),
                "failing": dg.MetadataValue.json(
                    [{"check": r.check_name, "sample_keys": list(r.sample_keys)} for r in failing_gx]
                ),
            },
        )
    if blocked is not None:
        raise dg.Failure(description=str(blocked), metadata={"months": [m.isoformat() for m in ctx.months]})
    yield dg.MaterializeResult(
        metadata={
            "months_published": [m.isoformat() for m in result.months_published],
            "months_closed_left_alone": [m.isoformat() for m in result.months_closed],
            "payout_rows": result.payout_rows,
            "checks_passed": len(result.check_results),
        }
    )
