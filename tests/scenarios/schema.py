"""The scenario file format: pydantic models, cross-reference checks and the YAML reader.

A scenario is a small, self-contained company written by hand (employees, plans, deals and their later
versions, billing, quotas, FX overrides) plus the payout ledger a person computed from
docs/compensation-engine.md. Local ids (``rep``, ``d1``) are short and readable; the harness prefixes every id
with the scenario key (``s01``) so that all scenarios can share one warehouse without interacting.

A plan file's worked example (``examples:`` in ``plans/*.yaml``) is a scenario without its ``plans`` block:
:class:`PlanExample`; ``plan_examples.py`` turns it into a :class:`Scenario` on (a renamed copy of) the file's plan.

Every event must lie inside the :class:`Horizon` the warehouse is built for (the library: 2025).

Validation happens before anything is written, and every error names the file, the scenario and the field
(``s07_amount_edit.yaml: s07_amount_edit: deals.0.versions.0.amount: ...``), because a typo in a hand-written
scenario should cost seconds, not a 60-second dbt build.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ingestion.plans import CompPlan


@dataclass(frozen=True)
class Horizon:
    """A date range every event of a scenario must lie in. A warehouse is built for whole calendar years (its
    calendar is derived from the quota sheet, which the harness writes for every month of the horizon); a plan
    example's horizon is the warehouse's, clipped to the plan version's effective range."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"horizon {self.start}..{self.end}: end before start")

    def contains(self, value: date | datetime) -> bool:
        day = value.date() if isinstance(value, datetime) else value
        return self.start <= day <= self.end

    def clip(self, start: date, end: date | None) -> Horizon | None:
        """The part of the horizon inside [start, end] (end None: open-ended), or None when they do not meet."""
        first, last = max(self.start, start), min(self.end, end or self.end)
        return Horizon(first, last) if first <= last else None

    @property
    def is_whole_years(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31)

    def __str__(self) -> str:
        if self.is_whole_years:
            years = (self.start.year, self.end.year)
            return str(years[0]) if years[0] == years[1] else f"{years[0]}-{years[1]}"
        return f"{self.start}..{self.end}"


LIBRARY_HORIZON = Horizon(date(2025, 1, 1), date(2025, 12, 31))
"""Every library scenario lives in 2025, so the library warehouse's calendar is 2025."""
PLAN_EXAMPLES_HORIZON = Horizon(date(2025, 1, 1), date(2026, 12, 31))
"""The plan files' examples: the v1 plans end 2025-12-31 and the v2/v3 plans start in 2026."""

EntryType = Literal[
    "earning",
    "true_up",
    "adjustment",
    "clawback",
    "bonus",
    "rate_cap",
    "payout_cap",
    "draw",
    "draw_recovery",
]
"""Ledger entry types a scenario may expect. `payout` is implied: it is always minus the net payout."""

RuleType = Literal["tier", "bonus", "rate_cap", "payout_cap", "draw", "draw_recovery"]

LocalId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
"""Scenario-local id; the harness makes it global as `<scenario key>_<local id>`."""


class ScenarioError(ValueError):
    """A scenario file is malformed or inconsistent; the message names file, scenario and field."""


def _month(value: Any) -> Any:
    """Accept `2025-03` (how people write a payout month) as well as a date; normalise to the 1st."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value):
        return date.fromisoformat(f"{value}-01")
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        if value.day != 1:
            raise ValueError("a payout month is written YYYY-MM (or the 1st of the month)")
        return value
    return value


Month = Annotated[date, BeforeValidator(_month)]


def noon(day: date) -> datetime:
    """Default knowledge time of an event dated `day`: noon that day (inside the day's month)."""
    return datetime.combine(day, time(12, 0))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------------------------------------ people


class HrChange(_Strict):
    """A later effective-dated HR row: only the attributes given change (e.g. a reorg changes `manager`)."""

    effective_from: date
    manager: LocalId | None = None
    role: Literal["AE", "SE", "SALES_MANAGER", "SALES_DIRECTOR"] | None = None
    target_incentive_annual: Decimal | None = None
    pay_currency: str | None = None


class QuotaSpec(_Strict):
    """One quota row per `period` of the horizon that overlaps the employment, all with `amount` (full, unprorated)
    unless `overrides` gives a period-start a different amount. Currency defaults to the pay currency."""

    period: Literal["month", "quarter", "year"] = "month"
    amount: Decimal = Field(ge=0)
    currency: str | None = None
    overrides: dict[date, Decimal] = Field(default_factory=dict)


class PlanAssignment(_Strict):
    plan: str
    effective_from: date | None = None
    """None: from the start of the horizon."""
    effective_to: date | None = None


class Leave(_Strict):
    id: LocalId
    type: Literal["unpaid", "parental", "sick", "sabbatical"] = "unpaid"
    paid: bool = False
    start_date: date
    end_date: date


class Employee(_Strict):
    """An employee (HR worker) and, unless `crm_user: false`, their CRM user. `plan` is shorthand for one
    assignment from the start of the horizon; `assignments` spells out a plan change. (In a plan file's example
    an employee is on the file's plan for its whole effective range unless `plan: null` says otherwise.)"""

    id: LocalId
    name: str | None = None
    role: Literal["AE", "SE", "SALES_MANAGER", "SALES_DIRECTOR"] = "AE"
    manager: LocalId | None = None
    region: Literal["NA", "EMEA", "APAC", "LATAM"] = "NA"
    pay_currency: str = "USD"
    hire_date: date = date(2024, 1, 1)
    termination_date: date | None = None
    target_incentive_annual: Decimal = Decimal(60000)
    crm_user: bool = True
    plan: str | None = None
    assignments: list[PlanAssignment] = Field(default_factory=list)
    history: list[HrChange] = Field(default_factory=list)
    quota: QuotaSpec | None = None
    leaves: list[Leave] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_way_to_assign(self) -> Employee:
        if self.plan is not None and self.assignments:
            raise ValueError("give either plan or assignments, not both")
        return self

    @property
    def plan_assignments(self) -> list[PlanAssignment]:
        return [PlanAssignment(plan=self.plan)] if self.plan else list(self.assignments)


# ------------------------------------------------------------------------------------------------- CRM


class Account(_Strict):
    id: LocalId
    segment: Literal["SMB", "MidMarket", "Enterprise"] = "SMB"
    region: Literal["NA", "EMEA", "APAC", "LATAM"] = "NA"
    owner: LocalId | None = None


class DealVersion(_Strict):
    """A later version of a deal, known from `last_modified`; only the fields given change.
    `won: false` un-wins the deal (stage Closed Lost)."""

    last_modified: datetime
    amount: Decimal | None = Field(default=None, ge=0)
    owner: LocalId | None = None
    won: bool | None = None
    close_date: date | None = None


class Deal(_Strict):
    """A closed-won opportunity, first known at `known_at` (default: noon on the close date)."""

    id: LocalId
    owner: LocalId
    account: LocalId = "acct"
    type: Literal["new", "expansion", "renewal"] = "new"
    amount: Decimal = Field(ge=0)
    currency: str = "USD"
    close_date: date
    contract_term_months: int | None = 12
    known_at: datetime | None = None
    versions: list[DealVersion] = Field(default_factory=list)

    @property
    def first_known(self) -> datetime:
        return self.known_at or noon(self.close_date)


class SplitVersion(_Strict):
    last_modified: datetime
    percent: Decimal | None = None
    user: LocalId | None = None
    deleted: bool | None = None


class Split(_Strict):
    """An opportunity split to an employee's CRM user; known with the deal unless `known_at` says otherwise."""

    id: LocalId
    deal: LocalId
    user: LocalId
    type: Literal["revenue", "overlay"] = "revenue"
    percent: Decimal = Field(ge=0)
    known_at: datetime | None = None
    versions: list[SplitVersion] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------- billing


class Customer(_Strict):
    id: LocalId
    account: LocalId = "acct"
    currency: str = "USD"


class SubscriptionVersion(_Strict):
    last_modified: datetime
    status: Literal["active", "canceled", "past_due", "trialing"] | None = None
    end_date: date | None = None
    amount: Decimal | None = None


class Subscription(_Strict):
    id: LocalId
    customer: LocalId = "cust"
    deal: LocalId | None = None
    status: Literal["active", "canceled", "past_due", "trialing"] = "active"
    start_date: date
    end_date: date | None = None
    interval: Literal["month", "year"] = "month"
    amount: Decimal = Field(ge=0)
    currency: str = "USD"
    known_at: datetime | None = None
    versions: list[SubscriptionVersion] = Field(default_factory=list)


class InvoiceVersion(_Strict):
    """A later invoice status, known from `last_modified` (a payment: `status: paid`, `paid_at` defaults to
    `last_modified`)."""

    last_modified: datetime
    status: Literal["draft", "open", "paid", "void", "uncollectible"]
    paid_at: datetime | None = None


class Invoice(_Strict):
    """An invoice of a deal. A negative `amount` is a credit note."""

    id: LocalId
    customer: LocalId = "cust"
    deal: LocalId | None = None
    subscription: LocalId | None = None
    invoice_date: date
    due_date: date | None = None
    amount: Decimal
    currency: str = "USD"
    status: Literal["draft", "open", "paid", "void", "uncollectible"] = "open"
    paid_at: datetime | None = None
    known_at: datetime | None = None
    versions: list[InvoiceVersion] = Field(default_factory=list)


class FxOverride(_Strict):
    """USD per one unit of `currency` on `date`, replacing the harness default for that day."""

    currency: str
    date: date
    rate: Decimal = Field(gt=0)


# --------------------------------------------------------------------------------------------- expected


class ExpectedPayout(_Strict):
    """A payee-month: `net` is `fct_monthly_payouts.net_payout_amount`; `by_type` the ledger sum per entry type
    (types not listed must sum to 0; the `payout` line must be minus `net`)."""

    employee: LocalId
    month: Month
    net: Decimal
    by_type: dict[EntryType, Decimal] = Field(default_factory=dict)
    why: str = ""
    """The hand computation, for the reader (and the failure message)."""

    @model_validator(mode="after")
    def _by_type_adds_up(self) -> ExpectedPayout:
        if sum(self.by_type.values(), Decimal(0)) != self.net:
            raise ValueError(f"by_type sums to {sum(self.by_type.values(), Decimal(0))}, not to net {self.net}")
        return self


class ExpectedLine(_Strict):
    """Ledger lines matching every key given (employee, month, entry and rule type, and any of opportunity,
    tier, bonus) must sum to `amount`; when `fx_rate` / `credit_amount` are given every matched line carries
    them. An amount of 0 is also met by no line at all, unless `exists: true` (e.g. the explained 0 line the
    engine doc promises below a threshold)."""

    employee: LocalId
    month: Month
    entry_type: EntryType
    rule_type: RuleType
    opportunity: LocalId | None = None
    tier_number: int | None = None
    bonus_id: str | None = None
    amount: Decimal
    fx_rate: Decimal | None = None
    credit_amount: Decimal | None = None
    exists: bool = False
    why: str = ""


class Expected(_Strict):
    payouts: list[ExpectedPayout] = Field(min_length=1)
    lines: list[ExpectedLine] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------- scenario


class _ScenarioBody(_Strict):
    """Everything of a scenario but its id and plans: the part a plan file's example shares with it."""

    title: str
    mechanics: list[str] = Field(min_length=1)
    """What the scenario covers, as named in the coverage list (docs/scenarios.md)."""
    asserts: str
    """One line: what the expected block checks (for docs/scenarios.md)."""
    computation: str
    """The hand computation in one line (for docs/scenarios.md)."""
    note: str = ""
    """Where the expectation rests on one reading of a sentence of the engine doc: which, and why."""
    employees: list[Employee] = Field(min_length=1)
    accounts: list[Account] = Field(default_factory=list)
    deals: list[Deal] = Field(default_factory=list)
    splits: list[Split] = Field(default_factory=list)
    customers: list[Customer] = Field(default_factory=list)
    subscriptions: list[Subscription] = Field(default_factory=list)
    invoices: list[Invoice] = Field(default_factory=list)
    fx: list[FxOverride] = Field(default_factory=list)
    expected: Expected


class Scenario(_ScenarioBody):
    id: str = Field(pattern=r"^(s\d{2}[a-z]?|x\d{3})_[a-z0-9_]+$", max_length=48)
    """`s<NN>_<name>` in the library; `x<NNN>_<example id>` for a plan file's example (numbered by the harness)."""
    plans: list[dict[str, Any]] = Field(default_factory=list)
    source_file: str = ""
    """Set by the reader: the file the scenario came from (for messages)."""
    label: str = ""
    """How messages name the scenario when not by its id (a plan example: `examples.<i> (<example id>)`)."""

    @property
    def key(self) -> str:
        """`s07` for `s07_amount_edit`: the prefix of every global id of this scenario."""
        return self.id.split("_", 1)[0]

    def gid(self, local_id: str) -> str:
        """Global (warehouse) id of a local id."""
        return f"{self.key}_{local_id}"

    def crm_user_id(self, employee_local_id: str) -> str:
        return f"{self.key}_{employee_local_id}_u"

    def comp_plans(self) -> list[CompPlan]:
        return [CompPlan.model_validate(p) for p in self.plans]


class PlanExample(_ScenarioBody):
    """A worked example in a plan file (`examples:`): a scenario without `plans`, because the plan is the file
    itself. Its employees are on the file's plan version for the version's whole effective range unless they say
    otherwise (`plan: null`: on no plan, e.g. reps feeding a manager plan); every date lies inside the version's
    effective range. `id` is unique within the file."""

    id: LocalId


# ------------------------------------------------------------------------------------------------ reader


class _DecimalLoader(yaml.SafeLoader):
    """YAML floats become Decimal, so hand-written cents are exact (433.34 stays 433.34)."""


_DecimalLoader.add_constructor(
    "tag:yaml.org,2002:float",
    lambda loader, node: Decimal(str(loader.construct_scalar(node)).replace("_", "")),
)


def _format(err: ValidationError, prefix: str) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{prefix}: {loc}: {msg}" if loc else f"{prefix}: {msg}")
    return "; ".join(parts)


def read_yaml(path: Path) -> Any:
    """A hand-written YAML file, floats as Decimal."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_DecimalLoader)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path.name}: not valid YAML ({exc})") from exc


def read_scenario_file(path: Path, horizon: Horizon = LIBRARY_HORIZON) -> list[Scenario]:
    """One scenario per file (a mapping) or several (`scenarios: [...]`)."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name}: a scenario file is a mapping (one scenario) or has `scenarios: [...]`")
    raw = data["scenarios"] if set(data) == {"scenarios"} else [data]
    scenarios = []
    for i, item in enumerate(raw):
        sid = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
        try:
            scenario = Scenario.model_validate({**item, "source_file": path.name})
        except ValidationError as exc:
            raise ScenarioError(_format(exc, f"{path.name}: {sid}")) from None
        if not scenario.id.startswith("s"):
            raise ScenarioError(f"{path.name}: {sid}: id: a library scenario id is s<NN>_<name>")
        check_scenario(scenario, horizon)
        scenarios.append(scenario)
    return scenarios


def load_library(library_dir: Path, horizon: Horizon = LIBRARY_HORIZON) -> list[Scenario]:
    """Every scenario of the library, sorted by id; ids and keys must be unique across files."""
    scenarios: list[Scenario] = []
    for path in sorted(library_dir.glob("*.yaml")):
        scenarios.extend(read_scenario_file(path, horizon))
    seen: dict[str, str] = {}
    for s in scenarios:
        if s.key in seen:
            raise ScenarioError(f"{s.source_file}: {s.id}: id: key {s.key!r} already used in {seen[s.key]}")
        seen[s.key] = s.source_file
    return sorted(scenarios, key=lambda s: s.id)


# ------------------------------------------------------------------------------------- cross-references


def _dupes(ids: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    dupes: set[str] = set()
    for i in ids:
        (dupes if i in seen else seen).add(i)
    return dupes


def check_scenario(s: Scenario, horizon: Horizon = LIBRARY_HORIZON) -> None:
    """References resolve, ids are unique, plans validate and every event and payout month is in the horizon."""
    where = f"{s.source_file}: {s.label or s.id}"
    _in_horizon = horizon.contains

    def fail(field: str, msg: str) -> None:
        raise ScenarioError(f"{where}: {field}: {msg}")

    plan_ids: set[str] = set()
    for i, plan in enumerate(s.plans):
        try:
            comp = CompPlan.model_validate(plan)
        except ValidationError as exc:
            raise ScenarioError(_format(exc, f"{where}: plans.{i}")) from None
        if not comp.plan_id.startswith(f"{s.key}_"):
            fail(f"plans.{i}.plan_id", f"must start with the scenario key {s.key + '_'!r} (plans share one folder)")
        plan_ids.add(comp.plan_id)

    collections: dict[str, list[Any]] = {
        "employees": s.employees,
        "accounts": s.accounts,
        "deals": s.deals,
        "splits": s.splits,
        "customers": s.customers,
        "subscriptions": s.subscriptions,
        "invoices": s.invoices,
    }
    for name, items in collections.items():
        dupes = _dupes(item.id for item in items)
        if dupes:
            fail(name, f"duplicate ids {sorted(dupes)}")
    leave_ids = [lv.id for e in s.employees for lv in e.leaves]
    if _dupes(leave_ids):
        fail("employees.leaves", f"duplicate leave ids {sorted(_dupes(leave_ids))}")

    employees = {e.id: e for e in s.employees}
    crm_users = {e.id for e in s.employees if e.crm_user}
    deals = {d.id for d in s.deals}
    customers = {c.id for c in s.customers}
    subscriptions = {sub.id for sub in s.subscriptions}

    for i, e in enumerate(s.employees):
        if e.manager is not None and e.manager not in employees:
            fail(f"employees.{i}.manager", f"unknown employee {e.manager!r}")
        for j, change in enumerate(e.history):
            if change.manager is not None and change.manager not in employees:
                fail(f"employees.{i}.history.{j}.manager", f"unknown employee {change.manager!r}")
            if change.effective_from <= e.hire_date:
                fail(f"employees.{i}.history.{j}.effective_from", "must be after the hire date")
        for j, a in enumerate(e.plan_assignments):
            if a.plan not in plan_ids:
                fail(f"employees.{i}.assignments.{j}.plan", f"unknown plan {a.plan!r}; this scenario has {plan_ids}")
        if e.plan_assignments and e.quota is None:
            fail(f"employees.{i}.quota", "a plan participant needs quota rows (give quota: {period, amount})")
        for j, lv in enumerate(e.leaves):
            if not (_in_horizon(lv.start_date) and _in_horizon(lv.end_date)):
                fail(f"employees.{i}.leaves.{j}", f"leave must lie inside {horizon}")
        if e.termination_date is not None and not _in_horizon(e.termination_date):
            fail(f"employees.{i}.termination_date", f"must lie inside {horizon}")

    account_ids = {a.id for a in s.accounts} | {d.account for d in s.deals} | {c.account for c in s.customers}
    for i, a in enumerate(s.accounts):
        if a.owner is not None and a.owner not in crm_users:
            fail(f"accounts.{i}.owner", f"unknown CRM user {a.owner!r}")
    del account_ids  # accounts referenced but not declared are created with defaults

    for i, d in enumerate(s.deals):
        if d.owner not in crm_users:
            fail(f"deals.{i}.owner", f"unknown CRM user {d.owner!r} (an employee with crm_user: true)")
        if not _in_horizon(d.close_date) or not _in_horizon(d.first_known):
            fail(f"deals.{i}", f"close date and knowledge time must lie inside {horizon}")
        previous = d.first_known
        for j, v in enumerate(d.versions):
            if v.owner is not None and v.owner not in crm_users:
                fail(f"deals.{i}.versions.{j}.owner", f"unknown CRM user {v.owner!r}")
            if v.last_modified <= previous or not _in_horizon(v.last_modified):
                fail(f"deals.{i}.versions.{j}.last_modified", f"must be later than the previous version, in {horizon}")
            previous = v.last_modified
    for i, sp in enumerate(s.splits):
        if sp.deal not in deals:
            fail(f"splits.{i}.deal", f"unknown deal {sp.deal!r}")
        if sp.user not in crm_users:
            fail(f"splits.{i}.user", f"unknown CRM user {sp.user!r}")
        for j, v in enumerate(sp.versions):
            if v.user is not None and v.user not in crm_users:
                fail(f"splits.{i}.versions.{j}.user", f"unknown CRM user {v.user!r}")
    for i, sub in enumerate(s.subscriptions):
        if sub.customer not in customers:
            fail(f"subscriptions.{i}.customer", f"unknown customer {sub.customer!r}")
        if sub.deal is not None and sub.deal not in deals:
            fail(f"subscriptions.{i}.deal", f"unknown deal {sub.deal!r}")
    for i, inv in enumerate(s.invoices):
        if inv.customer not in customers:
            fail(f"invoices.{i}.customer", f"unknown customer {inv.customer!r}")
        if inv.deal is not None and inv.deal not in deals:
            fail(f"invoices.{i}.deal", f"unknown deal {inv.deal!r}")
        if inv.subscription is not None and inv.subscription not in subscriptions:
            fail(f"invoices.{i}.subscription", f"unknown subscription {inv.subscription!r}")
        if not _in_horizon(inv.invoice_date) or any(not _in_horizon(v.last_modified) for v in inv.versions):
            fail(f"invoices.{i}", f"invoice date and versions must lie inside {horizon}")

    for i, p in enumerate(s.expected.payouts):
        if p.employee not in employees:
            fail(f"expected.payouts.{i}.employee", f"unknown employee {p.employee!r}")
        if not _in_horizon(p.month):
            fail(f"expected.payouts.{i}.month", f"must lie inside {horizon}")
        if not employees[p.employee].plan_assignments:
            fail(f"expected.payouts.{i}.employee", f"{p.employee!r} has no plan, so no payouts")
    months = [(p.employee, p.month) for p in s.expected.payouts]
    if _dupes(f"{e}@{m}" for e, m in months):
        fail("expected.payouts", f"duplicate (employee, month): {sorted(_dupes(f'{e}@{m}' for e, m in months))}")
    for i, line in enumerate(s.expected.lines):
        if line.employee not in employees:
            fail(f"expected.lines.{i}.employee", f"unknown employee {line.employee!r}")
        if line.opportunity is not None and line.opportunity not in deals:
            fail(f"expected.lines.{i}.opportunity", f"unknown deal {line.opportunity!r}")
        if (line.employee, line.month) not in months:
            fail(f"expected.lines.{i}", "the line's (employee, month) must also be listed in expected.payouts")


def month_starts(first: date, last: date) -> list[date]:
    """First days of every month from `first`'s month to `last`'s month, inclusive."""
    out = []
    day = first.replace(day=1)
    while day <= last:
        out.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return out
