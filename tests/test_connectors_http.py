"""HTTP JSON API connector (ingestion.connectors, dlt rest_api) against a local API that misbehaves on demand.

Retry policy is shrunk through the connector config (3 attempts, ~10 ms backoff, 0.3 s timeout), so each test
runs in about a second while exercising the same code paths as production.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pytest
from fakes.http_api import SLOW_SECONDS, FakeApi, serve

from ingestion.connectors import ConnectorError, HttpConnector, load_connectors, run_connector
from ingestion.contracts import contract
from ingestion.loader import load_all

INVOICES = contract("billing__invoices")
CUSTOMERS = contract("billing__customers")
TOKEN = "tok-s3cret-value"
TOKEN_ENV = "SPM_TEST_BILLING_API_TOKEN"
MAX_ATTEMPTS = 3
TIMEOUT = 0.3


def invoice(n: int, modified: str, amount: str = "100.50", status: str = "paid") -> dict:
    return {
        "invoice_id": f"INV-{n:03d}",
        "customer_id": "CUS-001",
        "subscription_id": None,
        "crm_opportunity_id": None,
        "invoice_date": "2025-01-05",
        "due_date": "2025-02-04",
        "amount": amount,
        "currency": "EUR",
        "status": status,
        "paid_at": None,
        "last_modified": modified,
    }


def customer(n: int, modified: str) -> dict:
    return {
        "customer_id": f"CUS-{n:03d}",
        "crm_account_id": None,
        "customer_name": f"Zebulon Widgets {n}",
        "currency": "EUR",
        "created_at": "2024-06-01T00:00:00Z",
        "last_modified": modified,
    }


@pytest.fixture
def api():
    fake = FakeApi(
        token=TOKEN,
        invoices=[invoice(n, f"2025-01-{n:02d}T10:00:00Z") for n in range(1, 6)],
        customers=[customer(n, f"2025-01-{n:02d}T09:00:00Z") for n in range(1, 4)],
    )
    with serve(fake):
        yield fake


def connector(api: FakeApi, **retry: float) -> HttpConnector:
    return HttpConnector.model_validate(
        {
            "kind": "http",
            "name": "billing_api",
            "source": "billing",
            "base_url": api.base_url,
            "token_env": TOKEN_ENV,
            "retry": {
                "max_attempts": MAX_ATTEMPTS,
                "backoff_factor": 0.01,
                "max_retry_delay": 0.05,
                "timeout": TIMEOUT,
                **retry,
            },
            "entities": [
                {
                    "entity": "invoices",
                    "path": "invoices",
                    "paginator": {"type": "cursor", "cursor_path": "next_cursor", "cursor_param": "cursor"},
                    "cursor_param": "since",
                    "initial_value": "2025-01-01T00:00:00Z",
                },
                {
                    "entity": "customers",
                    "path": "customers",
                    "paginator": {"type": "offset", "limit": 2, "total_path": "total"},
                    "cursor_param": "since",
                    "initial_value": "2025-01-01T00:00:00Z",
                },
            ],
        }
    )


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    landing, state = tmp_path / "landing", tmp_path / "connectors"
    landing.mkdir()
    return landing, state


def landed_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file())


def test_paged_endpoints_land_contract_files_that_load_cleanly(api, dirs, tmp_path):
    landing, state = dirs
    result = run_connector(connector(api), landing, state)

    assert result.rows("billing__invoices") == 5
    assert result.rows("billing__customers") == 3
    assert all(p.suffix == ".jsonl" and not p.name.startswith(".") for p in landed_files(landing))
    # both pagination styles were walked to the end
    assert [r.query.get("cursor") for r in api.requests_to("/v1/invoices")] == [None, "2", "4"]
    assert [r.query.get("offset") for r in api.requests_to("/v1/customers")] == ["0", "2"]

    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        loaded = load_all(conn, landing, [INVOICES, CUSTOMERS])
        assert loaded["billing__invoices"].rows_loaded == 5
        assert loaded["billing__customers"].rows_loaded == 3
        # no dlt bookkeeping columns (_dlt_id, _dlt_load_id) reached the landed files
        assert loaded["billing__invoices"].unexpected_columns == {}
        assert loaded["billing__customers"].unexpected_columns == {}
        assert conn.execute("select count(*) from raw._quarantine").fetchone() == (0,)
        amount, paid_at = conn.execute(
            "select amount, paid_at from raw.billing__invoices where invoice_id = 'INV-001'"
        ).fetchone()
        assert str(amount) == "100.50" and paid_at is None


def test_rate_limit_server_error_and_slow_page_are_retried_then_succeed(api, dirs):
    landing, state = dirs
    # page 1 fine; page 2: 429 (Retry-After), then 500, then fine; page 3: a stall past the timeout, then fine
    api.fail("/v1/invoices", None, "429", "500", None, "slow")

    result = run_connector(connector(api), landing, state)

    assert result.rows("billing__invoices") == 5
    requests = api.requests_to("/v1/invoices")
    assert [r.query.get("cursor") for r in requests] == [None, "2", "2", "2", "4", "4"]
    assert [r.status for r in requests[:4]] == [200, 429, 500, 200]
    assert requests[-1].status == 200


def test_connection_dropped_mid_page_is_retried_then_succeeds(api, dirs):
    landing, state = dirs
    api.fail("/v1/invoices", None, "dropped")

    result = run_connector(connector(api), landing, state)

    assert result.rows("billing__invoices") == 5
    assert [r.query.get("cursor") for r in api.requests_to("/v1/invoices")] == [None, "2", "2", "4"]


def test_wrong_token_fails_naming_connector_entity_and_status_and_lands_nothing(api, dirs, monkeypatch):
    landing, state = dirs
    monkeypatch.setenv(TOKEN_ENV, "wrong-token")

    with pytest.raises(ConnectorError) as raised:
        run_connector(connector(api), landing, state)

    err = raised.value
    assert err.http_status == 401 and not err.pending
    assert "billing_api" in str(err) and "HTTP 401" in str(err) and "not retried" in str(err)
    assert err.entity in ("billing__invoices", "billing__customers")
    assert "wrong-token" not in str(err) and TOKEN not in str(err)
    assert landed_files(landing) == []
    assert len(api.requests) == 1  # a client error is not retried


def test_persistent_server_errors_fail_after_bounded_retries_and_land_nothing(api, dirs):
    landing, state = dirs
    api.always_500 = True

    with pytest.raises(ConnectorError) as raised:
        run_connector(connector(api), landing, state)

    assert raised.value.http_status == 500
    assert f"gave up after {MAX_ATTEMPTS} attempt(s)" in str(raised.value)
    assert len(api.requests) == MAX_ATTEMPTS
    assert landed_files(landing) == []


def test_timeouts_on_every_attempt_fail_clearly_and_land_nothing(api, dirs):
    landing, state = dirs
    api.fail("/v1/invoices", *["slow"] * MAX_ATTEMPTS)

    with pytest.raises(ConnectorError, match=r"billing_api \(billing__invoices\): request timed out"):
        run_connector(connector(api), landing, state)
    assert landed_files(landing) == []
    assert TIMEOUT * 2 < SLOW_SECONDS


def test_truncated_page_fails_lands_nothing_and_the_next_run_extracts_everything(api, dirs):
    landing, state = dirs
    api.fail("/v1/invoices", None, "truncated")

    with pytest.raises(ConnectorError, match=r"billing__invoices\): a page is not valid JSON"):
        run_connector(connector(api), landing, state)
    assert landed_files(landing) == []

    result = run_connector(connector(api), landing, state)  # the cursor did not move
    assert result.rows("billing__invoices") == 5
    assert result.rows("billing__customers") == 3


def test_second_run_asks_only_for_records_after_the_cursor(api, dirs, tmp_path):
    landing, state = dirs
    run_connector(connector(api), landing, state)
    api.requests.clear()
    api.invoices[1] = invoice(2, "2025-01-20T10:00:00Z", amount="80.00", status="void")  # edited upstream
    api.invoices.append(invoice(6, "2025-01-21T10:00:00Z"))

    second = run_connector(connector(api), landing, state)

    assert {r.query.get("since") for r in api.requests_to("/v1/invoices")} == {"2025-01-05T10:00:00Z"}
    assert {r.query.get("since") for r in api.requests_to("/v1/customers")} == {"2025-01-03T09:00:00Z"}
    # the record sitting exactly on the cursor is served again by the API and de-duplicated by dlt
    assert second.rows("billing__invoices") == 2
    assert second.rows("billing__customers") == 0
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        load_all(conn, landing, [INVOICES, CUSTOMERS])
        versions = conn.execute(
            "select status from raw.billing__invoices where invoice_id = 'INV-002' order by last_modified"
        ).fetchall()
        assert versions == [("paid",), ("void",)]


def test_logs_carry_no_row_contents_or_token(api, dirs, caplog, capfd, monkeypatch):
    landing, state = dirs
    caplog.set_level(logging.INFO)
    run_connector(connector(api), landing, state)
    monkeypatch.setenv(TOKEN_ENV, "wrong-token-value")
    with pytest.raises(ConnectorError):
        run_connector(connector(api), landing, state)

    out, err = capfd.readouterr()
    text = caplog.text + out + err
    assert "connector billing_api" in caplog.text  # it does log, just not the data
    for needle in (TOKEN, "wrong-token-value", "Zebulon", "INV-00", "100.50", "CUS-00"):
        assert needle not in text


def test_connectors_file_maps_endpoints_to_contracts_and_rejects_unknown_entities(tmp_path):
    good = tmp_path / "connectors.yaml"
    good.write_text(
        """
connectors:
  - kind: http
    name: billing_api
    source: billing
    base_url: https://billing.example.com/v1
    token_env: BILLING_API_TOKEN
    entities:
      - {entity: invoices, path: invoices, paginator: {type: cursor}, cursor_param: since}
  - kind: sql
    name: crm_db
    source: crm
    url_env: CRM_DB_URL
    entities:
      - {entity: opportunities, table: opportunity}
""",
        encoding="utf-8",
    )
    http, sql = load_connectors(good)
    assert http.retry.max_attempts == 5 and sql.entities[0].cursor == "last_modified"

    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("entity: invoices", "entity: refunds"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.yaml: .*'refunds'.* has no contract"):
        load_connectors(bad)
    assert load_connectors(None) == ()


def test_connectors_file_repeating_a_key_is_refused(tmp_path: Path):
    config = tmp_path / "connectors.yaml"
    config.write_text(
        "connectors:\n  - kind: sql\n    name: crm_db\n    source: crm\n    url_env: CRM_DB_URL\n"
        "    url_env: OTHER_DB_URL\n    entities:\n      - {entity: opportunities, table: opportunity}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as refused:
        load_connectors(config)
    assert str(refused.value) == (
        f"{config}: cannot read connectors file: line 6: duplicate key 'url_env' (first at line 5)"
    )


def test_example_connectors_file_in_the_repo_is_valid():
    example = Path(__file__).resolve().parent.parent / "connectors.example.yaml"
    kinds = {c.name: c.kind for c in load_connectors(example)}
    assert kinds == {"crm_db": "sql", "billing_api": "http"}


def test_landing_failure_after_a_complete_extract_is_landed_by_the_next_run(api, dirs):
    landing, state = dirs
    blocker = landing / "billing" / "invoices"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")  # the invoices folder cannot be created: landing fails

    with pytest.raises(ConnectorError, match=r"the extract is kept and lands on the next run") as raised:
        run_connector(connector(api), landing, state)
    assert raised.value.pending
    blocker.unlink()
    api.requests.clear()

    result = run_connector(connector(api), landing, state)

    # the cursor had moved, so the records come from the kept extract, not from the API again
    assert result.rows("billing__invoices") == 5
    assert {r.query.get("since") for r in api.requests_to("/v1/invoices")} == {"2025-01-05T10:00:00Z"}
