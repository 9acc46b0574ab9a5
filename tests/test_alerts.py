"""Failure alerts: always logged, posted to a webhook when configured, and never a second failure."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import dagster as dg
import pytest
from fakes.webhook import Webhook, serve_webhook

from orchestration.lib.alerts import send_alert


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with serve_webhook() as server:
        yield server


def _url(server: Webhook) -> str:
    return server.url


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_posts_summary_and_details_as_json(webhook, caplog):
    caplog.set_level(logging.ERROR, logger="spm.alerts")
    details = {"run_id": "abc", "job_name": "publish_month_job", "failed_steps": ["published__monthly_payouts"]}

    assert send_alert("SPM run failed", details, webhook_url=_url(webhook)) is True

    [(headers, payload)] = webhook.received
    assert payload == {"text": "SPM run failed", **details}
    assert headers["Content-Type"] == "application/json"
    assert any(r.levelno == logging.ERROR and "SPM run failed" in r.getMessage() for r in caplog.records)


def test_webhook_refusing_returns_false_and_warns(webhook, caplog):
    webhook.status = 500
    caplog.set_level(logging.WARNING, logger="spm.alerts")
    assert send_alert("SPM run failed", {"run_id": "abc"}, webhook_url=_url(webhook)) is False
    assert len(webhook.received) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "500" in warnings[0]
    assert "secret-token" not in caplog.text, "the webhook's path is a secret and stays out of the log"


def test_unreachable_webhook_returns_false_without_raising(caplog):
    caplog.set_level(logging.WARNING, logger="spm.alerts")
    url = f"http://127.0.0.1:{_unused_port()}/hook"
    assert send_alert("SPM run failed", {"run_id": "abc"}, webhook_url=url) is False
    assert any(r.levelno == logging.WARNING and "failed" in r.getMessage() for r in caplog.records)


def test_without_webhook_only_logs(caplog):
    caplog.set_level(logging.DEBUG, logger="spm.alerts")
    assert send_alert("SPM run failed", {"run_id": "abc"}, webhook_url=None) is False
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert "SPM run failed" in record.getMessage() and '"run_id": "abc"' in record.getMessage()


def test_failure_sensor_posts_the_failed_run(webhook, monkeypatch):
    """The sensor body on a real failed run: run id, job, months and the failed step reach the webhook."""
    from orchestration.defs.operations import run_failure_alert_sensor

    monkeypatch.setenv("SPM_ALERT_WEBHOOK_URL", _url(webhook))

    @dg.op
    def boom() -> None:
        raise ValueError("source file is broken")

    @dg.job
    def failing_job() -> None:
        boom()

    with dg.instance_for_test() as instance:
        result = failing_job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={
                "dagster/asset_partition_range_start": "2025-01-01",
                "dagster/asset_partition_range_end": "2025-03-01",
            },
        )
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert_sensor",
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
        ).for_run_failure()
        run_failure_alert_sensor(context)

    [(_, payload)] = webhook.received
    assert payload["run_id"] == result.run_id
    assert payload["job_name"] == "failing_job"
    assert (payload["partition_start"], payload["partition_end"]) == ("2025-01-01", "2025-03-01")
    assert payload["failed_steps"] == ["boom"]
    assert payload["step_errors"] == {"boom": "source file is broken"}, "the cause, not Dagster's wrapper"
    assert payload["text"] == (
        f"SPM run failed: failing_job for 2025-01-01 to 2025-03-01 (run {result.run_id})\n"
        "step boom failed:\n  source file is broken"
    )
