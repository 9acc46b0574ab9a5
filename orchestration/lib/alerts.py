"""Telling people a run failed: always the log, and a webhook when one is configured.

No Dagster import, so it is testable alone. A chat webhook (Slack, Teams, Mattermost incoming webhooks accept
`{"text": ...}`) is reached with the standard library: alerting must not add a dependency, and must never turn
into a second failure, so a webhook that is down or refuses the message is logged as a warning and swallowed.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

logger = logging.getLogger("spm.alerts")

WEBHOOK_TIMEOUT_SECONDS = 10


def _redacted(url: str) -> str:
    """Scheme and host only: a webhook URL's path is its secret (Slack's is), so it never goes to a log."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" if parts.hostname else "(unparseable URL)"


def send_alert(summary: str, details: Mapping[str, object], *, webhook_url: str | None) -> bool:
    """Log `summary` and `details` at ERROR; if `webhook_url` is set, POST `{"text": summary, **details}` to it.

    Returns True only if the webhook answered 2xx (False with no webhook configured, or on any failure). Never
    raises: the caller is reporting a failure already, and an unreachable chat server must not hide it.
    """
    logger.error("%s %s", summary, json.dumps(dict(details), default=str, sort_keys=True))
    if not webhook_url:
        return False
    body = json.dumps({"text": summary, **details}, default=str).encode("utf-8")
    request = urllib.request.Request(
        webhook_url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except Exception as exc:  # HTTPError (non-2xx), URLError, timeouts, malformed URL, broken HTTP: all the same here
        logger.warning("alert webhook %s failed: %s", _redacted(webhook_url), exc)
        return False
    if not 200 <= status < 300:
        logger.warning("alert webhook %s answered HTTP %s", _redacted(webhook_url), status)
        return False
    return True
