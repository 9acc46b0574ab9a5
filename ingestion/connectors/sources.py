"""dlt sources built from connector config: `sql_table` per SQL entity, one `rest_api_source` per HTTP connector.

Everything that makes extraction reliable comes from dlt rather than a hand-rolled loop: incremental cursors
(with de-duplication of rows sitting exactly on the last cursor value), pagination, bearer auth, and
retries with exponential backoff honouring Retry-After. This module only translates our validated config into
dlt's, so the mapping is in one place and testable without a network.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ingestion.connectors.config import HttpConnector, SqlConnector, contract_for


def _initial(value: str | None) -> Any:
    """An ISO date or timestamp from the config becomes a date or datetime, so it compares with the column."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        return value


def sql_resources(connector: SqlConnector, url: str) -> list[Any]:
    """One `sql_table` resource per entity, named after the entity (so its table and its state are too).

    Reflection is deferred to extraction, so an unreachable database fails inside the run, where the error is
    attributed to the entity, instead of while building the source. Results are streamed (a server-side cursor
    on PostgreSQL): without it psycopg2 fetches the whole result set into memory before dlt sees one chunk.
    """
    import dlt
    from dlt.sources.sql_database import sql_table

    resources = []
    for entity in connector.entities:
        resource = sql_table(
            credentials=url,
            table=entity.table,
            schema=connector.db_schema,
            incremental=dlt.sources.incremental(entity.cursor, initial_value=_initial(entity.initial_value)),
            chunk_size=connector.chunk_size,
            backend="sqlalchemy",
            reflection_level="full",
            defer_table_reflect=True,
            engine_adapter_callback=_stream_results,
        ).with_name(entity.entity)
        resource.apply_hints(table_name=entity.entity)
        resources.append(resource)
    return resources


def _stream_results(engine: Any) -> Any:
    return engine.execution_options(stream_results=True)


def rest_api_config(connector: HttpConnector, token: str) -> dict[str, Any]:
    """dlt `rest_api` config for a connector; the token only ever lives in this in-memory dict.

    Every contract column is hinted as text: an API's JSON types are not trusted, the loader types and
    validates each value (quarantining what does not fit), and a column that is null on every row of a page
    still lands as a column instead of being dropped by dlt's schema inference.
    """
    from dlt.sources.helpers.requests import Client

    retry = connector.retry
    session = Client(
        request_timeout=(retry.timeout, retry.timeout),
        raise_for_status=False,
        request_max_attempts=retry.max_attempts,
        request_backoff_factor=retry.backoff_factor,
        request_max_retry_delay=retry.max_retry_delay,
    ).session
    resources = []
    for entity in connector.entities:
        contract = contract_for(connector, entity)
        endpoint: dict[str, Any] = {
            "path": entity.path,
            "params": dict(entity.params),
            "data_selector": entity.data_selector,
            "paginator": entity.paginator.model_dump(exclude_none=True),
            "incremental": {"cursor_path": entity.cursor, "initial_value": entity.initial_value},
        }
        if entity.cursor_param:
            endpoint["incremental"]["start_param"] = entity.cursor_param
        resources.append(
            {
                "name": entity.entity,
                "endpoint": endpoint,
                "write_disposition": "append",
                "max_table_nesting": 0,
                "columns": {c.name: {"data_type": "text", "nullable": True} for c in contract.columns},
            }
        )
    return {
        "client": {"base_url": connector.base_url, "auth": {"type": "bearer", "token": token}, "session": session},
        "resources": resources,
    }


def http_source(connector: HttpConnector, token: str) -> Any:
    from dlt.sources.rest_api import rest_api_source

    return rest_api_source(rest_api_config(connector, token), name=connector.name)
