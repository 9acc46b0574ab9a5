"""Connector assets: one per configured SQL / HTTP connector, upstream of the raw assets of its entities.

A connector asset only lands files (ingestion/connectors): the raw asset downstream loads them through the usual
contract gate. Nothing is defined when no connectors file is configured (the demo default), so the graph and
the network stay exactly as they were. Secrets are read from the environment when the asset runs, never at
definition time, so a code location loads without them.
"""

from pathlib import Path

import dagster as dg

from ingestion.connectors import ConnectorError, HttpConnector, SqlConnector, run_connector
from ingestion.connectors.config import contract_for
from ingestion.contracts import SourceContract
from orchestration.lib.run_lock import RunLockResource
from orchestration.lib.warehouse import PlatformResource


def connector_key(connector: SqlConnector | HttpConnector) -> dg.AssetKey:
    return dg.AssetKey(["connectors", connector.name])


def entity_upstreams(connectors: tuple[SqlConnector | HttpConnector, ...]) -> dict[str, list[dg.AssetKey]]:
    """`<source>__<entity>` -> the connector assets that land it."""
    upstreams: dict[str, list[dg.AssetKey]] = {}
    for connector in connectors:
        for entity in connector.entities:
            upstreams.setdefault(contract_for(connector, entity).name, []).append(connector_key(connector))
    return upstreams


def _connector_asset(connector: SqlConnector | HttpConnector) -> dg.AssetsDefinition:
    kind = "sql" if isinstance(connector, SqlConnector) else "http"
    entities = ", ".join(contract_for(connector, e).name for e in connector.entities)

    @dg.asset(
        key=connector_key(connector),
        group_name="ingestion",
        kinds={"dlt", kind},
        description=f"{kind.upper()} connector {connector.name}: extracts what changed and lands {entities}.",
    )
    def _extract(
        context: dg.AssetExecutionContext,
        platform: PlatformResource,
        run_lock: RunLockResource,  # unused: one writing run at a time also guards the connector's dlt state
    ) -> dg.MaterializeResult:
        try:
            result = run_connector(connector, Path(platform.landing_dir), Path(platform.connectors_state_dir))
        except ConnectorError as exc:
            raise dg.Failure(
                description=str(exc),
                metadata={"http_status": exc.http_status, "extract_kept_for_next_run": exc.pending},
            ) from None
        return dg.MaterializeResult(
            metadata={
                "files_landed": len(result.landed),
                "rows_landed": dg.MetadataValue.json({c.name: result.rows(c.name) for c in _contracts(connector)}),
            }
        )

    return _extract


def _contracts(connector: SqlConnector | HttpConnector) -> list[SourceContract]:
    return [contract_for(connector, e) for e in connector.entities]


def build_connector_assets(connectors: tuple[SqlConnector | HttpConnector, ...]) -> list[dg.AssetsDefinition]:
    return [_connector_asset(c) for c in connectors]
