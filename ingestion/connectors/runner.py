"""Run one connector: dlt pipeline (state under the data folder) -> landed files, or one clear error.

Failure semantics (docs/connectors.md has the table):

* **Extraction fails** (HTTP error after retries, timeout, invalid JSON, database error): dlt commits a load
  package and the incremental state only after the whole extract succeeded, so nothing lands and the next run
  asks for the same records again (pinned by the tests, so a dlt upgrade that changed this would show). The
  error is a `ConnectorError` naming the connector, the entity and the cause (HTTP status, timeout, ...) but
  never a secret, a URL query or a response body.
* **Landing fails after a complete extract** (disk full, permissions): the cursor has moved, but the extract
  is kept as a pending dlt load package and the next run lands it before extracting anything new: files
  arrive at least once, and the loader's duplicate check makes "more than once" harmless.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.connectors.config import HttpConnector, SqlConnector, contract_for, secret

log = logging.getLogger(__name__)


class ConnectorError(RuntimeError):
    """A connector run failed. Attributes allow routing (alert per status, ...) without parsing the message."""

    def __init__(
        self, connector: str, entity: str | None, cause: str, http_status: int | None = None, pending: bool = False
    ) -> None:
        self.connector = connector
        self.entity = entity
        self.cause = cause
        self.http_status = http_status
        self.pending = pending
        """True when the extract was complete but landing failed: it is kept and lands on the next run."""
        where = f" ({entity})" if entity else ""
        outcome = "the extract is kept and lands on the next run" if pending else "nothing was landed"
        super().__init__(f"connector {connector}{where}: {cause}; {outcome}")


@dataclass(frozen=True)
class Landed:
    entity: str
    """Contract name, `<source>__<entity>`."""
    file: str
    """Path relative to the landing folder."""
    rows: int


@dataclass
class ConnectorResult:
    connector: str
    landed: list[Landed] = field(default_factory=list)

    def rows(self, entity: str) -> int:
        return sum(f.rows for f in self.landed if f.entity == entity)


def pipeline_name(connector: SqlConnector | HttpConnector) -> str:
    return f"spm_connector_{connector.name}"


def run_connector(
    connector: SqlConnector | HttpConnector,
    landing_dir: Path,
    state_dir: Path,
    env: Mapping[str, str] | None = None,
) -> ConnectorResult:
    """Extract what is new since the last successful run and land it; returns what landed.

    `state_dir` holds dlt's pipeline folders (incremental cursors, pending packages): keep it with the data
    folder. Deleting it makes the next run a full extract, which the loader de-duplicates.
    """
    import dlt

    from ingestion.connectors.landing import landing_destination
    from ingestion.connectors.sources import http_source, sql_resources

    _no_telemetry()
    value = secret(connector, env)
    result = ConnectorResult(connector.name)
    contracts = {e.entity: contract_for(connector, e) for e in connector.entities}
    destination = landing_destination(
        connector.name,
        contracts,
        Path(landing_dir),
        lambda entity, file, rows: result.landed.append(Landed(entity, file, rows)),
    )
    pipeline = dlt.pipeline(
        pipeline_name=pipeline_name(connector),
        pipelines_dir=str(state_dir),
        destination=destination,
        dataset_name=connector.name,
    )
    try:
        if pipeline.has_pending_data:
            log.warning("connector %s: landing an earlier extract that did not finish landing", connector.name)
            pipeline.normalize()
            pipeline.load()
        data = sql_resources(connector, value) if isinstance(connector, SqlConnector) else http_source(connector, value)
        pipeline.run(data)
    except Exception as exc:
        error = _translate(connector, exc, contracts, value, pending=pipeline.has_pending_data)
        log.error("%s", error)
        raise error from None
    log.info(
        "connector %s: %d file(s) landed, %d row(s)",
        connector.name,
        len(result.landed),
        sum(f.rows for f in result.landed),
    )
    return result


def _no_telemetry() -> None:
    """dlt reports anonymous usage over the network unless told not to; the platform never phones home."""
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and the exceptions dlt wraps in `.exception` attributes."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (getattr(current, "exception", None), current.__cause__, current.__context__):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def _translate(
    connector: SqlConnector | HttpConnector,
    exc: Exception,
    contracts: Mapping[str, Any],
    secret_value: str,
    *,
    pending: bool,
) -> ConnectorError:
    import requests
    from dlt.extract.exceptions import ResourceExtractionError

    chain = list(_chain(exc))
    entity = next((e.pipe_name for e in chain if isinstance(e, ResourceExtractionError)), None)
    contract_name = contracts[entity].name if entity in contracts else None
    attempts = f"{connector.retry.max_attempts} attempt(s)" if isinstance(connector, HttpConnector) else ""

    def error(cause: str, status: int | None = None) -> ConnectorError:
        return ConnectorError(connector.name, contract_name, cause, status, pending=pending)

    for err in chain:
        if isinstance(err, requests.HTTPError) and err.response is not None:
            status = err.response.status_code
            retried = status == 429 or status >= 500
            how = f"gave up after {attempts}" if retried else "not retried (client error)"
            path = requests.utils.urlparse(err.response.url).path
            return error(f"HTTP {status} {err.response.reason} from {path}, {how}", status)
        if isinstance(err, requests.Timeout):
            cause = f"request timed out ({connector.retry.timeout}s), gave up after {attempts}"
            return error(cause)
        if isinstance(err, requests.ConnectionError):
            return error(f"cannot connect, gave up after {attempts}")
        if type(err).__name__ == "JSONDecodeError":  # stdlib's, simplejson's or requests' (they differ)
            return error(
                f"a page is not valid JSON (truncated or malformed) at line {getattr(err, 'lineno', '?')} "
                f"column {getattr(err, 'colno', '?')}",
            )
    for err in chain:
        module = type(err).__module__
        if module.startswith(("sqlalchemy", "psycopg")):
            # connection problems carry the server's reason; other database errors may quote values: type only
            detail = _first_line(err, secret_value) if "OperationalError" in type(err).__name__ else ""
            return error(f"database error {type(err).__name__}{': ' + detail if detail else ''}")
    # the deepest cause that is not one of dlt's wrappers (PipelineStepFailed, ResourceExtractionError, ...)
    root = next((e for e in reversed(chain) if not type(e).__module__.startswith("dlt")), chain[-1])
    return error(f"{type(root).__name__}: {_first_line(root, secret_value)}")


def _first_line(err: BaseException, secret_value: str) -> str:
    text = str(getattr(err, "orig", None) or err).strip().splitlines()
    line = text[0][:200] if text else ""
    return line.replace(secret_value, "***") if secret_value else line
