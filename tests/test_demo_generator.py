"""Behaviour of the demo source-data generator (ingestion/demo).

The generated files are read back with plain csv/json/pyarrow, independently of the generator's own code, and
checked against the source contracts and the business invariants the marts and publication checks rely on.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from ingestion.contracts import CONTRACTS, CONTRACTS_BY_NAME, REPORTING_CURRENCY, SourceContract
from ingestion.demo import CompanyConfig, GenerationSummary, generate_company
from ingestion.demo.cli import main as cli_main
from ingestion.demo.crm import _close_after
from ingestion.demo.writers import arrow_schema

SMALL = CompanyConfig(payees=30, months=4, seed=7)
CONFIGS = {
    "small": SMALL,
    "tiny": CompanyConfig(payees=5, months=1, seed=3, start_month=date(2025, 1, 1)),
    "leap-year": CompanyConfig(payees=80, months=14, seed=11, start_month=date(2020, 1, 1)),
}
STEADY = CompanyConfig(payees=160, months=9, seed=13, start_month=date(2025, 1, 1))
"""Big enough for monthly closed-won totals to mean something (~70 wins a month), small enough to be fast."""
CURRENCIES = {"USD", "CAD", "EUR", "GBP", "AUD"}


# ---------------------------------------------------------------------------------------------------------
# fixtures and readers
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def company(request, tmp_path_factory) -> GenerationSummary:
    out = tmp_path_factory.mktemp(f"landing-{request.param}")
    return generate_company(CONFIGS[request.param], out)


def _expect_rows(summary: GenerationSummary, contract: SourceContract) -> bool:
    """Every entity has rows, except that a tiny, one-month company may close no deal (no billing, splits)."""
    cfg = summary.config
    if cfg.payees >= 30 and cfg.months >= 3:
        return True
    return contract.source != "billing" and contract.entity != "opportunity_splits"


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _contract_files(summary: GenerationSummary, contract: SourceContract) -> list[Path]:
    return sorted((summary.landing_dir / contract.source / contract.entity).glob(f"*.{contract.file_format}"))


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def _parse(contract: SourceContract, column: str, raw: Any) -> Any:
    """Parse one landed value strictly by its contract type (raises on any deviation)."""
    type_ = contract.column(column).type
    if raw is None:
        return None
    if type_ == "varchar":
        assert isinstance(raw, str), (column, raw)
        return raw
    if type_ == "date":
        if isinstance(raw, date):
            return raw
        assert _DATE.match(raw), (column, raw)
        return date.fromisoformat(raw)
    if type_ == "timestamp":
        assert isinstance(raw, str) and _TS.match(raw), (column, raw)
        return datetime.fromisoformat(raw)
    if type_ == "boolean":
        if isinstance(raw, bool):
            return raw
        assert raw in ("true", "false"), (column, raw)
        return raw == "true"
    if type_ == "integer":
        assert re.fullmatch(r"-?\d+", str(raw)), (column, raw)
        return int(raw)
    if type_.startswith("decimal"):
        scale = int(type_.split(",")[1].rstrip(")"))
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw))
        assert value.as_tuple().exponent == -scale, (column, raw, scale)
        return value
    raise AssertionError(f"unknown type {type_}")


def _read_file(contract: SourceContract, path: Path) -> list[dict[str, Any]]:
    names = [c.name for c in contract.columns]
    if contract.file_format == "csv":
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            assert header == names, path
            raw_rows = [dict(zip(names, (v if v != "" else None for v in r), strict=True)) for r in reader]
    elif contract.file_format == "jsonl":
        raw_rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line, parse_float=Decimal)
            assert list(obj) == names, path
            raw_rows.append(obj)
    else:
        table = pq.read_table(path)
        assert table.schema.names == names, path
        raw_rows = table.to_pylist()
    return [{k: _parse(contract, k, v) for k, v in row.items()} for row in raw_rows]


def _rows(summary: GenerationSummary, name: str) -> list[dict[str, Any]]:
    contract = CONTRACTS_BY_NAME[name]
    return [row for path in _contract_files(summary, contract) for row in _read_file(contract, path)]


def _latest(rows: list[dict[str, Any]], key: tuple[str, ...], ts: str = "last_modified") -> dict[tuple, dict]:
    latest: dict[tuple, dict] = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        if k not in latest or row[ts] > latest[k][ts]:
            latest[k] = row
    return latest


class _Hr:
    """Latest HR state read back from the landed files."""

    def __init__(self, summary: GenerationSummary) -> None:
        rows = _latest(_rows(summary, "hr__workers"), ("employee_id", "effective_from"))
        self.rows: dict[str, list[dict]] = defaultdict(list)
        for row in rows.values():
            self.rows[row["employee_id"]].append(row)
        for history in self.rows.values():
            history.sort(key=lambda r: r["effective_from"])
        self.by_user = {h[0]["crm_user_id"]: emp for emp, h in self.rows.items()}

    def hire(self, emp: str) -> date:
        return self.rows[emp][0]["hire_date"]

    def termination(self, emp: str) -> date | None:
        dates = {r["termination_date"] for r in self.rows[emp]}
        assert len(dates) == 1, f"{emp}: termination date differs between rows: {dates}"
        return dates.pop()

    def employed_on(self, emp: str, day: date) -> bool:
        end = self.termination(emp)
        return self.hire(emp) <= day and (end is None or day < end)

    def row_on(self, emp: str, day: date) -> dict | None:
        current = None
        for row in self.rows[emp]:
            if row["effective_from"] <= day:
                current = row
        return current


# ---------------------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path):
    first = generate_company(SMALL, tmp_path / "a")
    second = generate_company(SMALL, tmp_path / "b")
    assert first.rows == second.rows
    digests = _digests(tmp_path / "a")
    assert digests, "nothing was written"
    assert digests == _digests(tmp_path / "b")


def test_output_does_not_depend_on_hash_randomisation(tmp_path):
    """Set/dict iteration order must never leak into the files: run the CLI under two hash seeds."""
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        args = ["--out", str(out), "--payees", "20", "--months", "3", "--seed", "5"]
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        code = "import sys; from ingestion.demo.cli import main; sys.exit(main(sys.argv[1:]))"
        subprocess.run([sys.executable, "-c", code, *args], check=True, env=env, capture_output=True)
    assert _digests(tmp_path / "1") == _digests(tmp_path / "2")


def test_spilling_to_disk_does_not_change_the_output(tmp_path):
    """Large companies buffer rows on disk; the files must be identical to the all-in-memory path."""
    generate_company(SMALL, tmp_path / "memory")
    generate_company(SMALL, tmp_path / "spilled", spill_threshold=50)
    assert _digests(tmp_path / "memory") == _digests(tmp_path / "spilled")
    assert not list((tmp_path / "spilled").glob(".demo-spool-*")), "scratch folder left behind"


def test_different_seed_gives_different_files(tmp_path):
    generate_company(SMALL, tmp_path / "a")
    generate_company(SMALL.model_copy(update={"seed": SMALL.seed + 1}), tmp_path / "b")
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    changed = [path for path in a if a[path] != b.get(path)]
    assert len(changed) > len(a) // 2


# ---------------------------------------------------------------------------------------------------------
# shape: contracts, file naming, horizon
# ---------------------------------------------------------------------------------------------------------


def test_every_file_has_its_contract_columns_in_order(company):
    for contract in CONTRACTS:
        files = _contract_files(company, contract)
        assert files or not _expect_rows(company, contract), f"no files for {contract.name}"
        for path in files:
            _read_file(contract, path)  # asserts header / key order / schema names
            if contract.file_format == "parquet":
                assert pq.read_schema(path).remove_metadata() == arrow_schema(contract), path


def test_values_satisfy_contract_types_nullability_and_vocabularies(company):
    for contract in CONTRACTS:
        rows = _rows(company, contract.name)
        assert rows or not _expect_rows(company, contract), contract.name
        for column in contract.columns:
            values = [r[column.name] for r in rows]
            if not column.nullable:
                assert None not in values, f"{contract.name}.{column.name} has nulls"
            if column.allowed:
                assert set(values) - {None} <= set(column.allowed), f"{contract.name}.{column.name}"
            if column.non_negative:
                assert all(v is None or v >= 0 for v in values), f"{contract.name}.{column.name}"
            if column.max_value is not None:
                assert all(v is None or abs(v) <= column.max_value for v in values), f"{contract.name}.{column.name}"


def test_version_keys_are_unique(company):
    for contract in CONTRACTS:
        keys = [tuple(r[k] for k in contract.version_key) for r in _rows(company, contract.name)]
        assert len(keys) == len(set(keys)), contract.name


def test_files_are_monthly_extracts_sorted_by_version_key(company):
    for contract in CONTRACTS:
        ts_col = {"salesops": "updated_at", "fx": "rate_date"}.get(contract.source, "last_modified")
        for path in _contract_files(company, contract):
            match = re.fullmatch(rf"{contract.entity}_(\d{{4}})-(\d{{2}})\.{contract.file_format}", path.name)
            assert match, path.name
            rows = _read_file(contract, path)
            assert rows, f"empty extract {path}"
            assert {(r[ts_col].year, r[ts_col].month) for r in rows} == {(int(match[1]), int(match[2]))}
            keys = [tuple(str(r[k]) for k in contract.version_key) for r in rows]
            assert keys == sorted(keys), path


def test_no_version_is_modified_outside_the_horizon(company):
    cfg = company.config
    for contract in CONTRACTS:
        if contract.source == "fx":
            continue
        ts_col = "updated_at" if contract.source == "salesops" else "last_modified"
        stamps = [r[ts_col] for r in _rows(company, contract.name)] or [cfg.horizon_start_ts]
        assert min(stamps) >= cfg.horizon_start_ts, contract.name
        assert max(stamps) <= cfg.horizon_end_ts, contract.name


def test_fx_covers_every_currency_and_day_from_a_month_before_the_horizon(company):
    cfg = company.config
    rows = _rows(company, "fx__rates")
    days = [cfg.fx_start + timedelta(days=i) for i in range((cfg.horizon_end - cfg.fx_start).days + 1)]
    assert {(r["rate_date"], r["currency"]) for r in rows} == {(d, c) for d in days for c in CURRENCIES}
    assert len(rows) == len(days) * len(CURRENCIES)
    for r in rows:
        if r["currency"] == REPORTING_CURRENCY:
            assert r["rate_to_reporting"] == Decimal("1")
        else:
            assert Decimal("0.3") < r["rate_to_reporting"] < Decimal("2.5"), r
    lead_in = f"rates_{cfg.fx_start:%Y-%m}.parquet"
    assert (company.landing_dir / "fx" / "rates" / lead_in).exists()


# ---------------------------------------------------------------------------------------------------------
# business invariants
# ---------------------------------------------------------------------------------------------------------


def test_hr_effective_ranges_do_not_overlap_and_are_contiguous(company):
    hr = _Hr(company)
    for emp, history in hr.rows.items():
        assert history[0]["effective_from"] == hr.hire(emp)
        for previous, following in itertools.pairwise(history):
            assert previous["effective_to"] == following["effective_from"] - timedelta(days=1), emp
        assert history[-1]["effective_to"] is None, emp
        hr.termination(emp)  # same termination date on every row


def test_hr_hierarchy_is_acyclic_and_managers_are_employed(company):
    hr = _Hr(company)
    cfg = company.config
    checkpoints = {cfg.horizon_start} | {r["effective_from"] for h in hr.rows.values() for r in h}
    layer = {"SALES_DIRECTOR": 0, "SALES_MANAGER": 1, "AE": 2, "SE": 2}
    for day in sorted(d for d in checkpoints if d >= cfg.horizon_start):
        managers = {}
        for emp in hr.rows:
            if hr.employed_on(emp, day):
                row = hr.row_on(emp, day)
                managers[emp] = row["manager_employee_id"]
                if row["job_role"] == "SALES_DIRECTOR":
                    assert row["manager_employee_id"] is None
                else:
                    boss = row["manager_employee_id"]
                    assert boss is not None and hr.employed_on(boss, day), (emp, day, boss)
                    assert layer[hr.row_on(boss, day)["job_role"]] == layer[row["job_role"]] - 1
        for emp in managers:
            seen, current = set(), emp
            while current is not None:
                assert current not in seen, f"reporting cycle through {emp} on {day}"
                seen.add(current)
                current = managers.get(current)


def test_revenue_splits_sum_to_100_per_opportunity(company):
    splits = _latest(_rows(company, "crm__opportunity_splits"), ("split_id",))
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for s in splits.values():
        if s["split_type"] == "revenue" and not s["is_deleted"]:
            totals[s["opportunity_id"]] += s["split_percent"]
    assert all(total == Decimal("100.0000") for total in totals.values()), totals
    if company.config.payees >= 30:
        assert totals, "expected some revenue splits"


def test_won_deal_owners_and_split_users_are_active_on_close_date(company):
    hr = _Hr(company)
    opps = _latest(_rows(company, "crm__opportunities"), ("opportunity_id",))
    won = {k[0]: o for k, o in opps.items() if o["is_won"]}
    assert all(o["is_closed"] and o["stage"] == "Closed Won" for o in won.values())
    if company.config.months > 2:
        assert won, "expected closed-won deals"
    for opp_id, o in won.items():
        owner = hr.by_user[o["owner_user_id"]]
        assert hr.employed_on(owner, o["close_date"]), (opp_id, owner, o["close_date"])
        assert hr.row_on(owner, o["close_date"])["job_role"] == "AE", opp_id
    splits = _latest(_rows(company, "crm__opportunity_splits"), ("split_id",))
    for s in splits.values():
        if s["opportunity_id"] in won and not s["is_deleted"]:
            close = won[s["opportunity_id"]]["close_date"]
            emp = hr.by_user[s["user_id"]]
            assert hr.employed_on(emp, close), s
            expected_role = "AE" if s["split_type"] == "revenue" else "SE"
            assert hr.row_on(emp, close)["job_role"] == expected_role, s


def test_opportunities_reference_accounts_and_crm_users(company):
    accounts = {k[0]: a for k, a in _latest(_rows(company, "crm__accounts"), ("account_id",)).items()}
    users = {k[0] for k in _latest(_rows(company, "crm__users"), ("user_id",))}
    hr = _Hr(company)
    assert set(hr.by_user) < users, "every worker has a CRM user, plus a few non-sales users"
    for o in _rows(company, "crm__opportunities"):
        assert o["account_id"] in accounts and o["owner_user_id"] in hr.by_user
        assert accounts[o["account_id"]]["created_date"] <= o["created_date"], o
        assert o["created_date"] <= o["close_date"]
        assert o["last_modified"].date() >= o["created_date"]


def test_pre_horizon_pipeline_arrives_in_the_first_extract(company):
    """The pipeline exists before the horizon: deals created earlier arrive as one version stamped at the
    horizon start (their state then), owned by an AE employed on the creation day; deals that also closed
    before the horizon are history the platform never sees."""
    cfg = company.config
    hr = _Hr(company)
    histories: dict[str, list[dict]] = defaultdict(list)
    for o in _rows(company, "crm__opportunities"):
        histories[o["opportunity_id"]].append(o)
    pre_horizon = 0
    for opp_id, history in histories.items():
        history.sort(key=lambda r: r["last_modified"])
        first = history[0]
        owner = hr.by_user[first["owner_user_id"]]
        assert hr.employed_on(owner, first["created_date"]), (opp_id, owner)
        assert hr.row_on(owner, first["created_date"])["job_role"] == "AE", opp_id
        assert not first["is_closed"], opp_id
        if first["created_date"] < cfg.horizon_start:
            pre_horizon += 1
            assert first["last_modified"] == cfg.horizon_start_ts, opp_id
        for version in history:
            if version["is_closed"]:
                assert version["close_date"] >= cfg.horizon_start, version
    if cfg.payees >= 30:
        assert pre_horizon, "expected open pipeline from before the horizon"
    ids = sorted(histories)
    assert ids == [f"OPP{n:07d}" for n in range(1, len(ids) + 1)], "ids are contiguous (no hidden history)"


def test_closed_won_volume_is_at_steady_state_from_the_first_month(tmp_path):
    """No cold start: the first month closes about as much as months 3-6 (count and reporting-currency
    amount), which is what keeps the first payout months from tripping the month-over-month gate."""
    summary = generate_company(STEADY, tmp_path)
    rates = {(r["rate_date"], r["currency"]): r["rate_to_reporting"] for r in _rows(summary, "fx__rates")}
    count: dict[date, int] = defaultdict(int)
    amount: dict[date, Decimal] = defaultdict(Decimal)
    for o in _latest(_rows(summary, "crm__opportunities"), ("opportunity_id",)).values():
        if o["is_won"]:
            month = o["close_date"].replace(day=1)
            count[month] += 1
            amount[month] += o["amount"] * rates[(o["close_date"], o["currency"])]
    months = STEADY.month_starts()
    for name, series in (("won deals", count), ("won amount", amount)):
        steady = sum(series[m] for m in months[2:6]) / 4
        assert steady > 0
        ratio = float(series[months[0]] / steady)
        assert 0.6 < ratio < 1.4, f"{name}: first month is {ratio:.2f} x the average of months 3-6"


def test_close_dates_run_on_a_month_clock():
    """Lags of 10-120 days stay 9-121 calendar days, and a month closes as much as it creates whatever its
    length (no accidental February dip / March spike)."""
    closing: dict[date, float] = defaultdict(float)
    day = date(2023, 1, 1)
    while day < date(2027, 1, 1):
        month_days = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
        for lag in range(10, 121):
            close = _close_after(day, lag)
            assert 9 <= (close - day).days <= 121, (day, lag, close)
            closing[close.replace(day=1)] += 1 / month_days  # the same creation volume every month
        day += timedelta(days=1)
    steady = [v for m, v in closing.items() if date(2023, 6, 1) <= m < date(2027, 1, 1)]
    assert max(steady) / min(steady) < 1.03, closing  # calendar days would give 31 / 28 = 1.11


def test_every_employed_month_has_a_quota(company):
    hr = _Hr(company)
    monthly = [r for r in _rows(company, "salesops__quotas") if r["period_type"] == "month"]
    quotas = _latest(monthly, ("employee_id", "period_start"), ts="updated_at")
    for month in company.config.month_starts():
        last = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        for emp in hr.rows:
            end = hr.termination(emp)
            employed = hr.hire(emp) <= last and (end is None or end >= month)
            assert ((emp, month) in quotas) == employed, (emp, month)


def test_leaders_get_quarter_and_year_quotas_averaging_their_months(company):
    """Managers' quarterly and directors' annual rows (FY2026 plans measure on them) = the mean of the monthly
    amounts as first published (before any correction) x the period's length."""
    rows = _rows(company, "salesops__quotas")
    long_rows = [r for r in rows if r["period_type"] != "month"]
    assert {r["period_type"] for r in long_rows} == {"quarter", "year"}
    monthly: dict = {}
    for r in sorted((r for r in rows if r["period_type"] == "month"), key=lambda r: r["updated_at"], reverse=True):
        monthly[(r["employee_id"], r["period_start"])] = r
    for r in long_rows:
        assert company.config.contains(r["period_start"])
        length = 3 if r["period_type"] == "quarter" else 12
        assert (r["period_start"].month - 1) % length == 0
        months = [
            m["quota_amount"]
            for (emp, start), m in monthly.items()
            if emp == r["employee_id"] and r["period_start"] <= start < _add_months(r["period_start"], length)
        ]
        assert months, r
        assert float(r["quota_amount"]) == round(float(sum(months)) / len(months) * length / 100) * 100, r


def _add_months(day, n: int):
    month = day.month - 1 + n
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def test_billing_follows_won_deals(company):
    opps = _latest(_rows(company, "crm__opportunities"), ("opportunity_id",))
    won = {k[0]: o for k, o in opps.items() if o["is_won"]}
    customers = _latest(_rows(company, "billing__customers"), ("customer_id",))
    accounts_with_wins = {o["account_id"] for o in won.values()}
    assert {c["crm_account_id"] for c in customers.values()} == accounts_with_wins
    subs = _latest(_rows(company, "billing__subscriptions"), ("subscription_id",))
    for s in subs.values():
        deal = won[s["crm_opportunity_id"]]
        assert s["start_date"] == deal["close_date"] and s["currency"] == deal["currency"]
        assert deal["opportunity_type"] in ("new", "expansion")
        assert (s["status"] == "canceled") == (s["end_date"] is not None)
    for inv in _latest(_rows(company, "billing__invoices"), ("invoice_id",)).values():
        sub = subs[(inv["subscription_id"],)]
        assert inv["invoice_date"] >= sub["start_date"]
        assert sub["end_date"] is None or inv["invoice_date"] < sub["end_date"]
        assert (inv["status"] == "paid") == (inv["paid_at"] is not None)


# ---------------------------------------------------------------------------------------------------------
# configuration and CLI
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_month", date(2024, 11, 15)),
        ("payees", 4),
        ("months", 0),
        ("deals_per_payee_per_month", 0),
        ("seed", "not-a-number"),
    ],
)
def test_config_validation_errors_name_the_field(field, value):
    with pytest.raises(ValidationError) as excinfo:
        CompanyConfig(**{field: value})
    errors = excinfo.value.errors()
    assert [e["loc"] for e in errors] == [(field,)]
    assert field in str(excinfo.value)


def test_config_defaults_and_horizon():
    cfg = CompanyConfig()
    assert (cfg.seed, cfg.payees, cfg.months, cfg.start_month) == (42, 200, 24, date(2024, 11, 1))
    assert cfg.deals_per_payee_per_month == 2.5
    assert cfg.horizon_end == date(2026, 10, 31)
    assert cfg.fx_start == date(2024, 10, 1)


def test_cli_writes_and_refuses_a_non_empty_out_without_overwrite(tmp_path, capsys):
    out = tmp_path / "landing"
    args = ["--out", str(out), "--payees", "5", "--months", "2", "--start-month", "2025-03", "--seed", "1"]
    assert cli_main(args) == 0
    assert "crm__opportunities" in capsys.readouterr().out
    before = _digests(out)
    assert (out / "hr" / "workers" / "workers_2025-03.csv").exists()
    assert (out / "fx" / "rates" / "rates_2025-02.parquet").exists()

    assert cli_main(args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert _digests(out) == before


def test_cli_overwrite_replaces_only_generated_folders(tmp_path):
    out = tmp_path / "landing"
    (out / "crm" / "opportunities").mkdir(parents=True)
    stale = out / "crm" / "opportunities" / "opportunities_1999-01.csv"
    stale.write_text("stale\n")
    keep = out / "README.txt"
    keep.write_text("not generated\n")
    other = out / "crm" / "custom_entity" / "data.csv"
    other.parent.mkdir(parents=True)
    other.write_text("mine\n")

    assert cli_main(["--out", str(out), "--payees", "5", "--months", "1", "--overwrite"]) == 0
    assert not stale.exists()
    assert keep.read_text() == "not generated\n"
    assert other.read_text() == "mine\n"
    assert list((out / "crm" / "opportunities").glob("*.csv"))


def test_cli_rejects_invalid_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as excinfo:
        cli_main(["--out", str(tmp_path / "x"), "--start-month", "2024-13"])
    assert excinfo.value.code == 2
    with pytest.raises(SystemExit):
        cli_main(["--out", str(tmp_path / "x"), "--payees", "3"])
    assert "payees" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_generate_company_refuses_to_mix_with_existing_extracts(tmp_path):
    generate_company(CONFIGS["tiny"], tmp_path)
    with pytest.raises(FileExistsError):
        generate_company(CONFIGS["tiny"], tmp_path)
