"""Connector assets in the Dagster graph: present only when configured, upstream of their entities' raw assets,
and a materialization lands files that the raw asset then loads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest
from fakes.http_api import FakeApi, serve

TOKEN_ENV = "SPM_TEST_DAGSTER_BILLING_TOKEN"
CONNECTOR = dg.AssetKey(["connectors", "billing_api"])
INVOICES = dg.AssetKey(["raw", "billing__invoices"])


def _invoice(n: int) -> dict:
    return {
        "invoice_id": f"INV-{n}",
        "customer_id": "CUS-1",
        "invoice_date": "2025-01-05",
        "due_date": "2025-02-04",
        "amount": "10.00",
        "currency": "EUR",
        "status": "open",
        "last_modified": f"2025-01-0{n}T00:00:00Z",
    }


def _connectors_file(tmp_path: Path, api: FakeApi) -> Path:
    path = tmp_path / "connectors.yaml"
    path.write_text(
        f"""
connectors:
  - kind: http
    name: billing_api
    source: billing
    base_url: {api.base_url}
    token_env: {TOKEN_ENV}
    retry: {{max_attempts: 2, backoff_factor: 0.01, max_retry_delay: 0.05, timeout: 2}}
    entities:
      - {{entity: invoices, path: invoices, paginator: {{type: cursor}}, cursor_param: since}}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from orchestration.settings import Settings

    settings = Settings.for_data_dir(tmp_path / "data")
    monkeypatch.setenv("SPM_WAREHOUSE_PATH", str(settings.warehouse_path))
    return settings


def test_without_a_connectors_file_the_graph_has_no_connector_assets(dbt_manifest, settings):
    from orchestration.definitions import build_definitions

    graph = build_definitions(settings).resolve_asset_graph()
    assert not [k for k in graph.get_all_asset_keys() if k.path[0] == "connectors"]
    assert graph.get(INVOICES).parent_keys == {dg.AssetKey(["raw", "landing_folder"])}


def test_configured_connector_is_an_ingestion_asset_that_lands_what_its_raw_asset_loads(
    dbt_manifest, settings, tmp_path, monkeypatch
):
    import duckdb

    from orchestration.definitions import build_definitions

    api = FakeApi(token="dagster-token", invoices=[_invoice(n) for n in range(1, 4)])
    with serve(api):
        connectors_file = _connectors_file(tmp_path, api)
        monkeypatch.setenv(TOKEN_ENV, "dagster-token")
        defs = build_definitions(replace(settings, connectors_file=connectors_file))
        graph = defs.resolve_asset_graph()
        assert graph.get(CONNECTOR).group_name == "ingestion"
        assert graph.get(INVOICES).parent_keys == {CONNECTOR, dg.AssetKey(["raw", "landing_folder"])}

        result = dg.materialize(
            [defs.resolve_assets_def(CONNECTOR), defs.resolve_assets_def(INVOICES)],
            selection=[CONNECTOR, INVOICES],
        )

    assert result.success
    landed = result.asset_materializations_for_node(defs.resolve_assets_def(CONNECTOR).node_def.name)
    assert landed[0].metadata["files_landed"].value == 1
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        assert conn.execute("select count(*) from raw.billing__invoices").fetchone() == (3,)
    assert list((settings.data_dir / "connectors").iterdir())  # dlt state kept under the data folder


def test_failing_connector_fails_its_asset_with_the_cause_and_its_raw_asset_does_not_run(
    dbt_manifest, settings, tmp_path, monkeypatch
):
    from orchestration.definitions import build_definitions

    api = FakeApi(token="dagster-token", invoices=[_invoice(1)])
    with serve(api):
        monkeypatch.setenv(TOKEN_ENV, "expired-token")
        defs = build_definitions(replace(settings, connectors_file=_connectors_file(tmp_path, api)))
        result = dg.materialize(
            [defs.resolve_assets_def(CONNECTOR), defs.resolve_assets_def(INVOICES)],
            selection=[CONNECTOR, INVOICES],
            raise_on_error=False,
        )

    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "billing_api (billing__invoices): HTTP 401" in failure.step_failure_data.error.message
    assert "expired-token" not in failure.step_failure_data.error.message
    assert result.asset_materializations_for_node(defs.resolve_assets_def(INVOICES).node_def.name) == []


def test_a_file_outside_every_entity_folder_fails_the_run_before_any_load(dbt_manifest, settings):
    """The `raw/landing_folder` asset refuses a misplaced file, naming it, and no raw asset runs after it."""
    from orchestration.definitions import build_definitions

    stray = settings.landing_dir / "billing" / "invoice"  # the entity folder is `invoices`
    stray.mkdir(parents=True)
    (stray / "invoices_2025-01.jsonl").write_text('{"invoice_id": "INV-1"}\n')
    defs = build_definitions(settings)
    landing = dg.AssetKey(["raw", "landing_folder"])

    result = dg.materialize(
        [defs.resolve_assets_def(landing), defs.resolve_assets_def(INVOICES)],
        selection=[landing, INVOICES],
        raise_on_error=False,
    )

    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_failure_data.error.cause.message.startswith(
        "ingestion.errors.SourceContractError: billing.invoice: file 'billing/invoice/invoices_2025-01.jsonl': "
        "rule unclaimed_file: not in the folder of any source entity"
    )
    assert result.asset_materializations_for_node(defs.resolve_assets_def(INVOICES).node_def.name) == []
