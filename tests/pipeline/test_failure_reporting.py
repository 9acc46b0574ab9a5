"""A failed run says why where operators look: the CLI's last lines and the alert name source, file, line or key,
and rule (issue 15), not only "Error occurred while executing op ...".

Run as people run it: `spm publish` in a subprocess against a small company, with a local webhook as the alert
target. The refused file fails its loader step early, so the run is short; the dbt case runs one dbt build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.webhook import Webhook, serve_webhook

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
SPM = str(Path(sys.executable).parent / "spm")


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with serve_webhook() as server:
        yield server


def _spm_publish(data_dir: Path, tmp_path: Path, webhook: Webhook, month: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "DAGSTER_HOME": str(REPO_ROOT),
        "SPM_DAGSTER_STORAGE_DIR": str(tmp_path / "dagster"),
        "SPM_DATA_DIR": str(data_dir),
        "SPM_ALERT_WEBHOOK_URL": webhook.url,
        "SPM_MAX_PAYOUT_CHANGE_RATIO": "1000",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for name in ("SPM_WAREHOUSE_PATH", "SPM_SERVING_PATH", "SPM_LANDING_DIR"):
        env.pop(name, None)
    return subprocess.run(
        [SPM, "publish", month], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=600, check=False
    )


def test_a_refused_file_is_named_with_its_line_and_rule_in_the_cli_summary_and_the_alert(
    dbt_manifest, small_company_landing: Path, tmp_path: Path, webhook: Webhook
):
    data_dir = tmp_path / "data"
    shutil.copytree(small_company_landing, data_dir / "landing")
    bad = data_dir / "landing" / "crm" / "opportunities" / "opportunities_2025-01-31-late.csv"
    bad.write_text('opportunity_id,account_id\nOPP-X,"ACC1\n')  # a quote opened on line 2 and never closed

    result = _spm_publish(data_dir, tmp_path, webhook, "2025-01")

    expected = (
        "crm.opportunities: file 'crm/opportunities/opportunities_2025-01-31-late.csv' line 2: rule malformed_csv:"
    )
    assert result.returncode == 1, result.stderr[-2000:]
    summary = result.stderr[result.stderr.rindex("step raw__crm__opportunities failed:") :]
    assert expected in summary, summary
    assert "Error occurred while executing" not in summary
    (alert,) = webhook.payloads
    assert alert["step_errors"]["raw__crm__opportunities"].startswith(expected), alert
    assert expected in alert["text"], alert["text"]


def test_a_failing_dbt_test_is_named_with_its_model_and_sample_keys(
    dbt_manifest, small_company_landing: Path, tmp_path: Path, webhook: Webhook
):
    """A zero FX rate loaded by a version of the platform older than the `positive:rate_to_reporting` rule sits in
    the raw layer: dbt's test on stg_fx__rates fails, and the failure names the test, the model and the row's key
    (never its amount), in the CLI's summary and the alert."""
    import duckdb

    from ingestion.loader import ensure_raw_tables

    data_dir = tmp_path / "data"
    shutil.copytree(small_company_landing, data_dir / "landing")
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as conn:
        ensure_raw_tables(conn)
        conn.execute(
            "insert into raw.fx__rates values (date '2025-01-03', 'SEK', 0, 'legacy-load', "
            "timestamp '2025-01-04 06:00:00', 'fx/rates/legacy.parquet', 1)"
        )

    result = _spm_publish(data_dir, tmp_path, webhook, "2025-01")

    expected = (
        "dbt test expression_is_true_stg_fx__rates_rate_to_reporting__rate_to_reporting_0 failed on stg_fx__rates "
        "(1 row(s)); sample keys: rate_date=2025-01-03/currency_code=SEK/load_id=legacy-load"
    )
    assert result.returncode == 1, result.stderr[-2000:]
    summary = result.stderr[result.stderr.rindex("step spm_dbt_models failed:") :]
    assert expected in summary, summary
    (alert,) = webhook.payloads
    assert expected in alert["step_errors"]["spm_dbt_models"], alert
