"""Scenario harness: a list of scenarios -> one landing folder + one plans folder -> one real warehouse.

A session builds two warehouses: the library (tests/scenarios/library, horizon 2025) and the plan files' worked
examples (plans/*.yaml `examples:`, horizon 2025-2026, see plan_examples.py). The horizon is a parameter of the
build: it decides the quota periods written (and so the warehouse calendar), the FX table and the load time.

Why one warehouse for all scenarios: a `dbt build` costs 30-60 s, so the session builds once. Scenarios cannot
interact because every id (employee, CRM user, account, opportunity, split, customer, subscription, invoice,
leave, plan, assignment) is prefixed with the scenario key, and the only shared input - daily FX rates - is a
constant default per currency that a scenario may override for one (currency, day) only if no other scenario
overrides the same day differently.

The pipeline is the production one: landing files written in the contract formats by the project's own
extract writer, `ingestion.loader.load_all`, `ingestion.plans.load_plans`, then `dbt build` of dbt_project in a
subprocess pointed at a temporary warehouse through SPM_WAREHOUSE_PATH (the variable profiles.yml reads).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import yaml

from ingestion.contracts import CONTRACTS_BY_NAME
from ingestion.demo.writers import ExtractWriter
from ingestion.loader import load_all
from ingestion.plans import ASSIGNMENTS_FILE, load_plans

from .schema import LIBRARY_HORIZON, Horizon, Scenario, ScenarioError, noon

if TYPE_CHECKING:
    from .plan_examples import PlanExampleCase

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
LIBRARY_DIR = Path(__file__).resolve().parent / "library"

DEFAULT_FX: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.10"),
    "GBP": Decimal("1.25"),
    "JPY": Decimal("0.0065"),
    "CAD": Decimal("0.75"),
    "IDR": Decimal("0.0000625"),
    "VND": Decimal("0.00004"),
}
"""USD per one unit of currency, constant over the horizon unless a scenario overrides a day. The FX table
runs from a month before the horizon to a month after it."""

REFERENCE_DATA_MODIFIED = datetime(2024, 12, 1, 9, 0)
"""last_modified of HR rows, CRM users and accounts: reference data is loaded before the horizon starts."""
QUOTA_UPDATED_AT = datetime(2024, 12, 15, 9, 0)


def load_time(horizon: Horizon) -> datetime:
    """The loaders' `now`: the company is built as if extracted after the horizon closed (2026-01-05 06:00 for
    the 2025 library)."""
    return datetime.combine(horizon.end + timedelta(days=5), datetime.min.time()).replace(hour=6)


# --------------------------------------------------------------------------------------------- company


@dataclass
class Company:
    """All scenarios merged: landing rows per contract, plan files and assignments."""

    horizon: Horizon = LIBRARY_HORIZON
    rows: dict[str, list[tuple[datetime | date, tuple[Any, ...]]]] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    """File name (`<plan_id>.v<version>.yaml`) -> plan dict, as written in the scenario."""
    assignments: list[dict[str, Any]] = field(default_factory=list)
    fx_overrides: dict[tuple[str, date], tuple[Decimal, str]] = field(default_factory=dict)

    def add(self, entity: str, when: datetime | date, row: tuple[Any, ...]) -> None:
        """Queue a row of `<source>__<entity>`; `when` decides which monthly extract file it lands in."""
        columns = CONTRACTS_BY_NAME[entity].columns
        if len(row) != len(columns):
            raise AssertionError(f"{entity}: {len(row)} values for {len(columns)} columns")
        self.rows.setdefault(entity, []).append((when, row))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _period_starts(period: str, first: date, last: date, horizon: Horizon) -> list[date]:
    """Starts of the horizon's periods of type `period` that overlap the employment [first, last]."""
    length = PERIOD_MONTHS[period]
    months = (horizon.end.year - horizon.start.year) * 12 + horizon.end.month - horizon.start.month + 1
    starts = [_add_months(horizon.start, n) for n in range(0, months, length)]
    return [start for start in starts if start <= last and _add_months(start, length) - timedelta(days=1) >= first]


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def add_scenario(company: Company, s: Scenario) -> None:
    """Translate one scenario into landing rows, plan files and assignments (all ids prefixed)."""
    g = s.gid
    horizon = company.horizon

    # Plans as code: written as the scenario has them, one file per version.
    for plan in s.comp_plans():
        name = f"{plan.plan_id}.v{plan.version}.yaml"
        raw = next(p for p in s.plans if p["plan_id"] == plan.plan_id and p["version"] == plan.version)
        company.plans[name] = raw

    for e in s.employees:
        # HR: one row per effective-dated state; employment dates repeated on every row (HR re-exports them).
        states: list[dict[str, Any]] = [
            {
                "effective_from": e.hire_date,
                "manager": e.manager,
                "role": e.role,
                "target_incentive_annual": e.target_incentive_annual,
                "pay_currency": e.pay_currency,
            }
        ]
        for change in sorted(e.history, key=lambda c: c.effective_from):
            nxt = dict(states[-1])
            nxt.update({k: getattr(change, k) for k in change.model_fields_set})
            states.append(nxt)
        for state in states:
            company.add(
                "hr__workers",
                REFERENCE_DATA_MODIFIED,
                (
                    g(e.id),
                    s.crm_user_id(e.id) if e.crm_user else None,
                    e.name or f"{s.key} {e.id}",
                    state["role"],
                    g(state["manager"]) if state["manager"] else None,
                    e.region,
                    state["pay_currency"],
                    e.hire_date,
                    e.termination_date,
                    _money(state["target_incentive_annual"]),
                    state["effective_from"],
                    None,
                    REFERENCE_DATA_MODIFIED,
                ),
            )
        if e.crm_user:
            company.add(
                "crm__users",
                REFERENCE_DATA_MODIFIED,
                (s.crm_user_id(e.id), e.name or f"{s.key} {e.id}", None, True, REFERENCE_DATA_MODIFIED),
            )
        for lv in e.leaves:
            company.add(
                "hr__leaves",
                REFERENCE_DATA_MODIFIED,
                (g(lv.id), g(e.id), lv.type, lv.paid, lv.start_date, lv.end_date, REFERENCE_DATA_MODIFIED),
            )
        for n, a in enumerate(e.plan_assignments, start=1):
            company.assignments.append(
                {
                    "assignment_id": f"{g(e.id)}_{n}",
                    "match": {"employee_id": g(e.id)},
                    "plan_id": a.plan,
                    "effective_from": a.effective_from or horizon.start,
                    **({"effective_to": a.effective_to} if a.effective_to else {}),
                }
            )
        if e.quota is not None:
            last = e.termination_date or horizon.end
            for start in _period_starts(e.quota.period, max(e.hire_date, horizon.start), last, horizon):
                amount = e.quota.overrides.get(start, e.quota.amount)
                company.add(
                    "salesops__quotas",
                    QUOTA_UPDATED_AT,
                    (
                        g(e.id),
                        e.quota.period,
                        start,
                        _money(amount),
                        e.quota.currency or e.pay_currency,
                        QUOTA_UPDATED_AT,
                    ),
                )

    accounts = {a.id: a for a in s.accounts}
    for account_id in sorted({d.account for d in s.deals} | {c.account for c in s.customers} | set(accounts)):
        a = accounts.get(account_id)
        company.add(
            "crm__accounts",
            REFERENCE_DATA_MODIFIED,
            (
                g(account_id),
                f"{s.key} account {account_id}",
                a.segment if a else "SMB",
                a.region if a else "NA",
                s.crm_user_id(a.owner) if a and a.owner else None,
                date(2024, 6, 1),
                REFERENCE_DATA_MODIFIED,
            ),
        )

    for d in s.deals:
        state = {"amount": d.amount, "owner": d.owner, "won": True, "close_date": d.close_date}
        versions = [(d.first_known, dict(state))]
        for v in d.versions:
            state.update({k: getattr(v, k) for k in v.model_fields_set if k != "last_modified"})
            versions.append((v.last_modified, dict(state)))
        for modified, st in versions:
            company.add(
                "crm__opportunities",
                modified,
                (
                    g(d.id),
                    g(d.account),
                    s.crm_user_id(st["owner"]),
                    f"{s.key} deal {d.id}",
                    d.type,
                    "Closed Won" if st["won"] else "Closed Lost",
                    _money(st["amount"]),
                    d.currency,
                    st["close_date"] - timedelta(days=30),
                    st["close_date"],
                    True,
                    st["won"],
                    d.contract_term_months,
                    modified,
                ),
            )

    deal_known = {d.id: d.first_known for d in s.deals}
    for sp in s.splits:
        state = {"percent": sp.percent, "user": sp.user, "deleted": False}
        versions = [(sp.known_at or deal_known[sp.deal], dict(state))]
        for v in sp.versions:
            state.update({k: getattr(v, k) for k in v.model_fields_set if k != "last_modified"})
            versions.append((v.last_modified, dict(state)))
        for modified, st in versions:
            company.add(
                "crm__opportunity_splits",
                modified,
                (
                    g(sp.id),
                    g(sp.deal),
                    s.crm_user_id(st["user"]),
                    sp.type,
                    Decimal(st["percent"]).quantize(Decimal("0.0001")),
                    st["deleted"],
                    modified,
                ),
            )

    for c in s.customers:
        created = datetime(2024, 6, 1, 9, 0)
        company.add(
            "billing__customers",
            created,
            (g(c.id), g(c.account), f"{s.key} customer {c.id}", c.currency, created, created),
        )

    for sub in s.subscriptions:
        state = {"status": sub.status, "end_date": sub.end_date, "amount": sub.amount}
        versions = [(sub.known_at or noon(sub.start_date), dict(state))]
        for v in sub.versions:
            state.update({k: getattr(v, k) for k in v.model_fields_set if k != "last_modified"})
            versions.append((v.last_modified, dict(state)))
        for modified, st in versions:
            company.add(
                "billing__subscriptions",
                modified,
                (
                    g(sub.id),
                    g(sub.customer),
                    g(sub.deal) if sub.deal else None,
                    st["status"],
                    sub.start_date,
                    st["end_date"],
                    sub.interval,
                    _money(st["amount"]),
                    sub.currency,
                    modified,
                ),
            )

    for inv in s.invoices:
        first = inv.known_at or noon(inv.invoice_date)
        states = [(first, inv.status, inv.paid_at or (first if inv.status == "paid" else None))]
        for v in inv.versions:
            states.append((v.last_modified, v.status, v.paid_at or (v.last_modified if v.status == "paid" else None)))
        for modified, status, paid_at in states:
            company.add(
                "billing__invoices",
                modified,
                (
                    g(inv.id),
                    g(inv.customer),
                    g(inv.subscription) if inv.subscription else None,
                    g(inv.deal) if inv.deal else None,
                    inv.invoice_date,
                    inv.due_date or inv.invoice_date + timedelta(days=30),
                    _money(inv.amount),
                    inv.currency,
                    status,
                    paid_at,
                    modified,
                ),
            )

    for o in s.fx:
        key = (o.currency, o.date)
        if key in company.fx_overrides and company.fx_overrides[key][0] != o.rate:
            rate, other = company.fx_overrides[key]
            raise ScenarioError(
                f"{s.source_file}: {s.id}: fx: {o.currency} on {o.date} is {o.rate} here but {rate} in {other}; "
                "scenarios share one FX table, so pick another day or the same rate"
            )
        if o.currency not in DEFAULT_FX:
            raise ScenarioError(f"{s.source_file}: {s.id}: fx: unknown currency {o.currency!r}")
        company.fx_overrides[key] = (o.rate, s.id)


def build_company(scenarios: list[Scenario], horizon: Horizon = LIBRARY_HORIZON) -> Company:
    if not horizon.is_whole_years:
        raise ScenarioError(f"a warehouse horizon is whole calendar years (quarters and years align), not {horizon}")
    company = Company(horizon=horizon)
    for s in scenarios:
        add_scenario(company, s)
    day, last_day = _add_months(horizon.start, -1), _add_months(horizon.end, 2) - timedelta(days=1)
    while day <= last_day:
        for currency, rate in DEFAULT_FX.items():
            override = company.fx_overrides.get((currency, day))
            company.add("fx__rates", day, (day, currency, override[0] if override else rate))
        day += timedelta(days=1)
    months = {row[2] for _, row in company.rows.get("salesops__quotas", []) if row[1] == "month"}
    if min(months, default=None) != horizon.start or max(months, default=None) != horizon.end.replace(day=1):
        raise ScenarioError(
            f"the monthly quota rows must span {horizon.start:%Y-%m} to {horizon.end:%Y-%m}: the warehouse calendar "
            f"is derived from them, and every scenario is written for the {horizon} horizon"
        )
    return company


# ------------------------------------------------------------------------------------------------ write


class _PlanDumper(yaml.SafeDumper):
    """Dumps Decimal as a plain YAML number, exactly as written in the scenario."""


_PlanDumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))


def write_inputs(company: Company, landing_dir: Path, plans_dir: Path) -> None:
    """Landing files via the project's extract writer (one file per entity and month), plan folder."""
    writer = ExtractWriter(landing_dir)
    for entity, rows in company.rows.items():
        for when, row in rows:
            writer.add(entity, when, row)
    writer.finalize()
    plans_dir.mkdir(parents=True, exist_ok=True)
    for name, plan in company.plans.items():
        (plans_dir / name).write_text(yaml.dump(plan, Dumper=_PlanDumper, sort_keys=False), encoding="utf-8")
    (plans_dir / ASSIGNMENTS_FILE).write_text(
        yaml.dump({"assignments": company.assignments}, Dumper=_PlanDumper, sort_keys=False), encoding="utf-8"
    )


# ----------------------------------------------------------------------------------------------- build


@dataclass(frozen=True)
class DbtNodeFailure:
    unique_id: str
    status: str
    message: str


@dataclass(frozen=True)
class Warehouse:
    """A built scenario warehouse, with what the dbt build said about itself."""

    path: Path
    dbt_returncode: int
    dbt_failures: tuple[DbtNodeFailure, ...]
    dbt_log_tail: str
    seconds_total: float
    seconds_dbt: float

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.path), read_only=True) as conn:
            return conn.execute(sql, params or []).fetchall()

    def has_table(self, qualified: str) -> bool:
        schema, table = qualified.split(".")
        return bool(
            self.query(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, table],
            )[0][0]
        )


def _dbt_failures(target_dir: Path) -> tuple[DbtNodeFailure, ...]:
    results = target_dir / "run_results.json"
    if not results.exists():
        return ()
    data = json.loads(results.read_text())
    return tuple(
        DbtNodeFailure(r["unique_id"], r["status"], (r.get("message") or "")[:500])
        for r in data.get("results", [])
        if r["status"] not in ("success", "pass")
    )


def build_warehouse(
    scenarios: list[Scenario],
    workdir: Path,
    *,
    horizon: Horizon = LIBRARY_HORIZON,
    exclude_unit_tests: bool = True,
) -> Warehouse:
    """Write inputs, load raw + plans with the project's loaders, then `dbt build` into a fresh warehouse."""
    started = time.monotonic()
    company = build_company(scenarios, horizon)
    landing, plans_dir = workdir / "landing", workdir / "plans"
    warehouse = workdir / "warehouse.duckdb"
    write_inputs(company, landing, plans_dir)

    with duckdb.connect(str(warehouse)) as conn:
        # loaded as of the scenario's own calendar, which may lie ahead of this machine's clock (`not_future`)
        load_all(conn, landing, now=load_time(horizon))
        quarantined = conn.execute(
            "select entity, record_key, rule from raw._quarantine order by entity, record_key limit 20"
        ).fetchall()
        if quarantined:
            raise ScenarioError(f"the loader quarantined scenario rows (entity, record, rule): {quarantined}")
        load_plans(conn, plans_dir, now=load_time(horizon))

    target_dir = workdir / "dbt_target"
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "build",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_dir),
        "--log-path",
        str(workdir / "dbt_logs"),
    ]
    if exclude_unit_tests:
        command += ["--exclude", "test_type:unit"]
    env = {
        **os.environ,
        "SPM_WAREHOUSE_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PARTIAL_PARSE": "false",
    }
    dbt_started = time.monotonic()
    proc = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
    dbt_seconds = time.monotonic() - dbt_started
    return Warehouse(
        path=warehouse,
        dbt_returncode=proc.returncode,
        dbt_failures=_dbt_failures(target_dir),
        dbt_log_tail="\n".join((proc.stdout + proc.stderr).splitlines()[-40:]),
        seconds_total=time.monotonic() - started,
        seconds_dbt=dbt_seconds,
    )


# ----------------------------------------------------------------------------------------------- docs


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ").strip() for c in cells) + " |"


def render_scenarios_doc(scenarios: list[Scenario], plan_examples: Sequence[PlanExampleCase] = ()) -> str:
    """docs/scenarios.md, generated from the library and the plan files' examples so it can never drift."""
    lines = [
        "# Compensation scenario library",
        "",
        "Hand-computed scenarios that run through the real pipeline (landing files -> `ingestion` loader -> "
        "`load_plans` -> `dbt build` into a temporary warehouse) and assert the payout ledger "
        "(`marts.fct_commission_ledger`) and the payouts (`marts.fct_monthly_payouts`). The expected numbers "
        "were computed by hand from [compensation-engine.md](compensation-engine.md); they are never produced by "
        "running the engine. Two sets: the library below (one warehouse, 2025) and the worked examples in the "
        "plan files ([further down](#worked-examples-in-the-plan-files), a second warehouse, 2025-2026).",
        "",
        "Run: `.venv/bin/python -m pytest tests/scenarios -q` (one warehouse build per set and session). Files: "
        "`tests/scenarios/library/*.yaml` (one scenario per file), harness in `tests/scenarios/harness.py` and "
        "`schema.py`, the plan examples' reader in `plan_examples.py`, the assertions in `checks.py`, the asserted "
        "table and column names in `tests/scenarios/ledger.py`. This page is generated by "
        "`python -m tests.scenarios.render_doc` (a test fails when it is stale). To inspect the landing files, "
        "plan folder and warehouse of a run, set `SPM_SCENARIO_WORKDIR` to an empty folder (one subfolder per "
        "warehouse: `library/`, `plan_examples/`).",
        "",
        "Every scenario also asserts: for each listed payee-month, `net_payout_amount` and the ledger sum per "
        "`entry_type` (unlisted types sum to 0, `payout` is minus the net); and that no unlisted payee-month of "
        "the scenario has a non-zero line, so the scenario's lines over all months add up to its listed nets. "
        "Defaults unless a scenario says otherwise: USD, monthly quota, target incentive 60,000 (5,000 a month), "
        "hired 2024-01-01, deals known at noon on their close date.",
        "",
        "| id | mechanics | asserted | hand computation |",
        "|---|---|---|---|",
    ]
    lines += [_row([f"`{s.id}`", "; ".join(s.mechanics), s.asserts, s.computation]) for s in scenarios]
    if plan_examples:
        lines += [
            "",
            "## Worked examples in the plan files",
            "",
            "Every plan file (`plans/<plan_id>.v<version>.yaml`) carries `examples:`, worked examples (inputs -> "
            "expected payout) that document the plan version for a reader of the file and run through the same "
            "pipeline and assertions (`tests/scenarios/test_plan_examples.py`, test ids `<plan>.v<version>:<id>`). "
            "An example is a scenario without its `plans` block: the plan is the file itself (the harness loads a "
            "copy renamed `x<NNN>_<plan_id>`, every other field unchanged), its employees are on that plan for the "
            "version's effective range unless they say `plan: null`, and its dates lie inside that range. The "
            "examples share one warehouse over 2025-2026 (the v1 plans end 2025-12-31, the v2/v3 plans start in "
            "2026). Defaults as above; worked examples are excluded from the plan version's content hash.",
            "",
            "| example | mechanics | asserted | hand computation |",
            "|---|---|---|---|",
        ]
        lines += [
            _row([f"`{c.label}`", "; ".join(c.example.mechanics), c.example.asserts, c.example.computation])
            for c in plan_examples
        ]
    noted = [(f"`{s.id}`", s.note) for s in scenarios if s.note]
    noted += [(f"`{c.label}`", c.example.note) for c in plan_examples if c.example.note]
    if noted:
        lines += [
            "",
            "## Readings of the engine doc",
            "",
            "Where compensation-engine.md leaves room, the scenario states the reading it was computed with:",
            "",
        ]
        lines += [f"- {name}: {' '.join(note.split())}" for name, note in noted]
    lines.append("")
    return "\n".join(lines)
