"""Source connectors beyond files: SQL databases and paged HTTP JSON APIs, extracted with dlt.

They land files into the landing folder and never touch the warehouse, so the loader stays the one gate every
row passes (see docs/connectors.md). Importing this package is cheap: dlt is imported only when a connector runs.
"""

from ingestion.connectors.config import (
    ConnectorConfigError,
    HttpConnector,
    SqlConnector,
    load_connectors,
)
from ingestion.connectors.runner import ConnectorError, ConnectorResult, Landed, run_connector

__all__ = [
    "ConnectorConfigError",
    "ConnectorError",
    "ConnectorResult",
    "HttpConnector",
    "Landed",
    "SqlConnector",
    "load_connectors",
    "run_connector",
]
