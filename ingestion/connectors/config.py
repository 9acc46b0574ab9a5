"""Connector configuration: which SQL tables and HTTP endpoints land as which source-contract entities.

A connector is one upstream system (a CRM database, a billing API). Its entities map one-to-one to source
contracts (`<source>__<entity>` in `ingestion.contracts`), so whatever a connector extracts is validated by the
same loader gate as a file dropped in the landing folder. The YAML file holds only shape and policy; secrets
(the database URL, the API token) are read from environment variables named in the file, so the file can be
committed and reviewed while the values never touch disk or logs.

Validation errors name the file, the connector and the key, like the plans-as-code loader does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingestion.contracts import CONTRACTS_BY_NAME, SourceContract
from ingestion.strict_yaml import load_strict

_NAME = r"^[a-z][a-z0-9_]*$"
_ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


class ConnectorConfigError(ValueError):
    """The connectors file (or a secret it names) is unusable; the message names file, connector and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RetryPolicy(_Strict):
    """How an HTTP connector treats transient failures (429, 5xx, connection errors, timeouts).

    Defaults suit a production API; tests shrink them. A 429's Retry-After header is honoured, capped by
    `max_retry_delay`. Other 4xx responses (401, 403, 404) are never retried: retrying cannot fix them.
    """

    max_attempts: int = Field(5, ge=1, le=20)
    """Attempts per request, the first one included."""
    backoff_factor: float = Field(1.0, ge=0)
    """Exponential backoff: the n-th retry waits about backoff_factor * 2**n seconds (capped below)."""
    max_retry_delay: float = Field(60.0, ge=0)
    """Upper bound of any one wait, Retry-After included (seconds)."""
    timeout: float = Field(60.0, gt=0)
    """Seconds to connect and seconds to wait for a response; a timed-out request counts as a failed attempt."""


class SqlEntity(_Strict):
    entity: str = Field(pattern=_NAME)
    """Contract entity the table lands as (`<connector source>__<entity>` must be a contract)."""
    table: str
    cursor: str = "last_modified"
    """Column extraction is incremental on: each run reads rows with cursor >= the highest value seen."""
    initial_value: str | None = None
    """Lower bound of the very first extract (ISO date or timestamp, as the column); None reads the whole table."""


class SqlConnector(_Strict):
    kind: Literal["sql"]
    name: str = Field(pattern=_NAME)
    source: str = Field(pattern=_NAME)
    """Contract source the entities belong to (crm, hr, billing, ...)."""
    url_env: str = Field(pattern=_ENV_NAME)
    """Environment variable holding the SQLAlchemy URL, password included (e.g. postgresql+psycopg2://...)."""
    db_schema: str | None = Field(None, alias="schema")
    chunk_size: int = Field(10_000, ge=1)
    entities: tuple[SqlEntity, ...] = Field(min_length=1)


class CursorPaginator(_Strict):
    """The response names the next page (`{"data": [...], "next_cursor": "abc"}`), sent back as a parameter."""

    type: Literal["cursor"]
    cursor_path: str = "next_cursor"
    cursor_param: str = "cursor"


class OffsetPaginator(_Strict):
    """Pages by offset and limit; stops at `total` when the response has one, else at the first empty page."""

    type: Literal["offset"]
    limit: int = Field(100, ge=1)
    offset_param: str = "offset"
    limit_param: str = "limit"
    total_path: str | None = None


Paginator = Annotated[CursorPaginator | OffsetPaginator, Field(discriminator="type")]


class HttpEntity(_Strict):
    entity: str = Field(pattern=_NAME)
    path: str
    """Endpoint path relative to the connector's base_url."""
    data_selector: str = "data"
    """JSONPath of the record list in each page."""
    paginator: Paginator
    cursor: str = "last_modified"
    """Record field extraction is incremental on."""
    cursor_param: str | None = None
    """Query parameter that asks the API for records with cursor >= a value; None filters client-side only."""
    initial_value: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    """Fixed query parameters (never secrets: the token travels in the Authorization header)."""


class HttpConnector(_Strict):
    kind: Literal["http"]
    name: str = Field(pattern=_NAME)
    source: str = Field(pattern=_NAME)
    base_url: str = Field(pattern=r"^https?://")
    token_env: str = Field(pattern=_ENV_NAME)
    """Environment variable holding the bearer token."""
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    entities: tuple[HttpEntity, ...] = Field(min_length=1)


Connector = Annotated[SqlConnector | HttpConnector, Field(discriminator="kind")]


class ConnectorsFile(_Strict):
    connectors: tuple[Connector, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> ConnectorsFile:
        names = [c.name for c in self.connectors]
        if len(names) != len(set(names)):
            raise ValueError(f"connector names must be unique, got {names}")
        for connector in self.connectors:
            seen: set[str] = set()
            for entity in connector.entities:
                name = f"{connector.source}__{entity.entity}"
                if name not in CONTRACTS_BY_NAME:
                    raise ValueError(
                        f"connector {connector.name!r}: entity {entity.entity!r} of source {connector.source!r} "
                        f"has no contract; known: {sorted(CONTRACTS_BY_NAME)}"
                    )
                if name in seen:
                    raise ValueError(f"connector {connector.name!r}: entity {entity.entity!r} is listed twice")
                seen.add(name)
                columns = {c.name for c in CONTRACTS_BY_NAME[name].columns}
                if entity.cursor not in columns:
                    raise ValueError(
                        f"connector {connector.name!r}: cursor {entity.cursor!r} is not a column of {name}"
                    )
        return self


def contract_for(connector: SqlConnector | HttpConnector, entity: SqlEntity | HttpEntity) -> SourceContract:
    return CONTRACTS_BY_NAME[f"{connector.source}__{entity.entity}"]


def load_connectors(path: Path | None) -> tuple[SqlConnector | HttpConnector, ...]:
    """Parse and validate a connectors file; no file (the demo default) means no connectors."""
    if path is None:
        return ()
    path = Path(path)
    try:
        raw = load_strict(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConnectorConfigError(f"{path}: cannot read connectors file: {exc}") from None
    try:
        return ConnectorsFile.model_validate(raw or {}).connectors
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<file>'}: {err['msg']}" for err in exc.errors()
        )
        raise ConnectorConfigError(f"{path}: {problems}") from None


def secret(connector: SqlConnector | HttpConnector, env: Mapping[str, str] | None = None) -> str:
    """The connector's secret from its environment variable; the error names the variable, never a value."""
    env = os.environ if env is None else env
    var = connector.url_env if isinstance(connector, SqlConnector) else connector.token_env
    value = env.get(var, "")
    if not value.strip():
        raise ConnectorConfigError(f"connector {connector.name!r}: environment variable {var} is not set")
    return value
