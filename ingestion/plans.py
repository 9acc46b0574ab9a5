"""Compensation plans as code: YAML plan files and plan assignments, validated on load.

Sales-ops keeps one YAML file per plan *version* (``plans/<plan_id>.v<version>.yaml``) and one
``plans/assignments.yaml`` that says who is on which plan, when. Every commission rule the SQL applies (tiers,
rates, tier method, caps, which credit types count) comes from these files, so a rule change is a reviewed diff
with a version bump, never a magic number edited inside a model.

Loading does three things:

1. validate every file with pydantic; any problem raises :class:`PlanValidationError` naming the file and the
   field path (``plans/ae.v1.yaml: tiers.1.rate: Input should be less than or equal to 1``);
2. check cross-file rules (assignment references an existing plan, versions of one plan do not overlap, a
   published version's content never changes);
3. append the validated rows to ``raw.plans__*`` tables, once per distinct content hash, so the warehouse keeps
   the history of every plan version that was ever used to pay someone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingestion.strict_yaml import DuplicateKeyError, load_strict

log = logging.getLogger(__name__)

ASSIGNMENTS_FILE = "assignments.yaml"
CreditType = Literal["revenue", "overlay", "team"]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
WorkedExample = dict[str, Any]
"""A worked example in a plan file (inputs -> expected payout), hand-computed from docs/compensation-engine.md.

Its format is a scenario of the scenario harness without its `plans` block, because the plan is the file itself:
`id` (unique within the file), `title`, `mechanics`, `asserts`, `computation`, optional `note`, the inputs
(`employees`, `deals`, `splits`, `customers`, `subscriptions`, `invoices`, `fx`) and `expected` (`payouts`: net and
ledger sum per entry type per payee-month; `lines`). Employees are on this plan version for its whole effective
range unless they say `plan: null`, and every date lies inside that range. Loading plans keeps it an opaque mapping
(and leaves it out of the content hash); tests/scenarios/plan_examples.py validates it and the test suite runs
every example through the real pipeline (tests/scenarios/test_plan_examples.py, docs/scenarios.md)."""


class PlanValidationError(ValueError):
    """A plan or assignment file breaks a rule; the message names the file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Strict):
    """One attainment band: credit whose attainment falls in [from, to) earns `rate` on that credit."""

    from_attainment: Decimal = Field(ge=0, description="Lower bound as a fraction of quota (1.0 = 100 %).")
    to_attainment: Decimal | None = Field(default=None, description="Upper bound; null = open-ended top tier.")
    rate: Decimal = Field(ge=0, le=1, description="Commission rate on credit in this tier (0.08 = 8 %).")


class PayoutCap(_Strict):
    """Cap on the monthly payout, as a multiple of the payee's monthly target incentive (TI / 12).

    Expressed relative to target incentive so one plan works in every pay currency."""

    multiple_of_monthly_target_incentive: Decimal = Field(gt=0)


class Bonus(_Strict):
    """A SPIFF paid per qualifying credited deal, on top of tier commission (and under the payout cap).

    Exactly one amount rule: `rate_on_credit` (a share of the credited amount) or
    `share_of_monthly_target_incentive` (a flat amount, TI / 12 x share, scaled by the credit's split percent so a
    split deal pays one bonus in total, not one per split owner).
    """

    bonus_id: Slug
    applies_to: Literal["new_logo", "multi_year"]
    min_contract_term_months: int | None = Field(default=None, ge=1)
    rate_on_credit: Decimal | None = Field(default=None, gt=0, le=1)
    share_of_monthly_target_incentive: Decimal | None = Field(default=None, gt=0, le=10)

    @model_validator(mode="after")
    def _one_amount_rule(self) -> Bonus:
        if (self.rate_on_credit is None) == (self.share_of_monthly_target_incentive is None):
            raise ValueError("give exactly one of rate_on_credit or share_of_monthly_target_incentive")
        if self.applies_to == "multi_year" and self.min_contract_term_months is None:
            raise ValueError("min_contract_term_months: required for a multi_year bonus")
        if self.applies_to != "multi_year" and self.min_contract_term_months is not None:
            raise ValueError("min_contract_term_months: only meaningful for a multi_year bonus")
        return self


class Clawback(_Strict):
    """When commission already paid on a deal is reversed: events within `window_months` of the close month."""

    window_months: int = Field(ge=1, le=60)
    events: list[Literal["uncollectible_invoice", "churn"]] = Field(min_length=1)
    """Named `events`, not `on`: YAML 1.1 reads a bare `on` key as the boolean true."""

    @model_validator(mode="after")
    def _distinct(self) -> Clawback:
        if len(set(self.events)) != len(self.events):
            raise ValueError("events: duplicate entries")
        return self


class Draw(_Strict):
    """A monthly advance in the first months of employment: the payout is topped up to the draw amount.

    `recoverable` draws are paid back from later earnings above the draw (at most `recovery_share` of that
    excess per month); `non_recoverable` draws are a guarantee and are never paid back."""

    kind: Literal["recoverable", "non_recoverable"]
    monthly_share_of_target_incentive: Decimal = Field(gt=0, le=2)
    months_from_hire: int = Field(ge=1, le=24)
    recovery_share: Decimal = Field(default=Decimal(1), gt=0, le=1)

    @model_validator(mode="after")
    def _recovery_only_when_recoverable(self) -> Draw:
        if self.kind == "non_recoverable" and "recovery_share" in self.model_fields_set:
            raise ValueError("recovery_share: only meaningful for a recoverable draw")
        return self


class CompPlan(_Strict):
    plan_id: Slug
    version: int = Field(ge=1)
    name: str = Field(min_length=1)
    description: str = ""
    effective_from: date
    effective_to: date | None = None
    credit_types: list[CreditType] = Field(min_length=1)
    tier_method: Literal["marginal", "retroactive"]
    quota_period: Literal["month", "quarter", "year"] = "month"
    tiers: list[Tier] = Field(min_length=1)
    payout_cap: PayoutCap | None = None
    commission_threshold: Decimal | None = Field(
        default=None, gt=0, le=2, description="Month attainment below which no tier commission is paid (a gate)."
    )
    attainment_cap: Decimal | None = Field(
        default=None, gt=0, description="Credit above this attainment (e.g. 2.0 = 200 %) earns no tier commission."
    )
    bonuses: list[Bonus] = Field(default_factory=list)
    rate_cap: Decimal | None = Field(
        default=None, gt=0, le=1, description="Highest effective commission rate on a period's counted credit."
    )
    pay_basis: Literal["booking", "invoice_paid"] = "booking"
    attainment_basis: Literal["booking", "invoice_paid"] = "booking"
    fx_policy: Literal["close_date", "period_end", "invoice_date"] = "close_date"
    clawback: Clawback | None = None
    draw: Draw | None = None
    examples: list[WorkedExample] = Field(
        default_factory=list, description="Worked examples (inputs -> expected payout) the test suite runs."
    )

    @model_validator(mode="after")
    def _tiers_are_contiguous(self) -> CompPlan:
        """Tiers must tile [0, inf) without gaps or overlaps, or some credit would be paid twice or never."""
        if self.tiers[0].from_attainment != 0:
            raise ValueError("tiers: the first tier must start at from_attainment 0")
        for i, (lower, upper) in enumerate(zip(self.tiers, self.tiers[1:], strict=False)):
            if lower.to_attainment is None:
                raise ValueError(f"tiers.{i}: only the last tier may be open-ended (to_attainment null)")
            if lower.to_attainment <= lower.from_attainment:
                raise ValueError(f"tiers.{i}: to_attainment must be greater than from_attainment")
            if upper.from_attainment != lower.to_attainment:
                raise ValueError(
                    f"tiers.{i + 1}: from_attainment {upper.from_attainment} must equal the previous "
                    f"tier's to_attainment {lower.to_attainment} (no gaps or overlaps)"
                )
        if self.tiers[-1].to_attainment is not None:
            raise ValueError(f"tiers.{len(self.tiers) - 1}: the last tier must be open-ended (to_attainment null)")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to: must not be before effective_from")
        if len(set(self.credit_types)) != len(self.credit_types):
            raise ValueError("credit_types: duplicate entries")
        if len({b.bonus_id for b in self.bonuses}) != len(self.bonuses):
            raise ValueError("bonuses: duplicate bonus_id")
        return self


class AssignmentMatch(_Strict):
    """Who an assignment applies to: everyone in an HR job role, or one employee (which wins over role)."""

    job_role: str | None = None
    employee_id: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AssignmentMatch:
        if (self.job_role is None) == (self.employee_id is None):
            raise ValueError("give exactly one of job_role or employee_id")
        return self


class PlanAssignment(_Strict):
    assignment_id: Slug
    match: AssignmentMatch
    plan_id: Slug
    effective_from: date
    effective_to: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> PlanAssignment:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to: must not be before effective_from")
        return self


class AssignmentsFile(_Strict):
    assignments: list[PlanAssignment] = Field(min_length=1)


@dataclass(frozen=True)
class PlanBundle:
    """Every validated plan version and assignment, with the content hash of each source file."""

    plans: tuple[CompPlan, ...]
    assignments: tuple[PlanAssignment, ...]
    file_hashes: dict[str, str]

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.file_hashes):
            digest.update(f"{name}:{self.file_hashes[name]}\n".encode())
        return digest.hexdigest()


def _format_errors(path: Path, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        # model-level rules already start their message with the field path (e.g. "tiers.1: ...")
        lines.append(f"{path.name}: {loc}: {msg}" if loc else f"{path.name}: {msg}")
    return "; ".join(lines)


def _read_yaml(path: Path) -> object:
    try:
        return load_strict(path.read_text(encoding="utf-8"))
    except DuplicateKeyError as exc:
        raise PlanValidationError(
            f"{path.name}: <file>: {exc}: each setting is written once; remove or merge the other"
        ) from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PlanValidationError(f"{path.name}: <file>: not valid YAML ({exc})") from exc


def _overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    return a_from <= (b_to or date.max) and b_from <= (a_to or date.max)


def load_plan_bundle(plans_dir: Path) -> PlanBundle:
    """Read and validate every plan file and the assignments file in `plans_dir`."""
    if not plans_dir.is_dir():
        raise PlanValidationError(f"{plans_dir}: plans folder does not exist")
    plans: list[CompPlan] = []
    hashes: dict[str, str] = {}
    plan_files = sorted(p for p in plans_dir.glob("*.yaml") if p.name != ASSIGNMENTS_FILE)
    if not plan_files:
        raise PlanValidationError(f"{plans_dir}: no plan files (*.yaml) found")
    for path in plan_files:
        hashes[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            plan = CompPlan.model_validate(_read_yaml(path))
        except ValidationError as exc:
            raise PlanValidationError(_format_errors(path, exc)) from None
        expected_name = f"{plan.plan_id}.v{plan.version}.yaml"
        if path.name != expected_name:
            raise PlanValidationError(
                f"{path.name}: plan_id/version: file must be named {expected_name} after its plan_id and version"
            )
        plans.append(plan)

    by_id: dict[str, list[CompPlan]] = {}
    for plan in plans:
        by_id.setdefault(plan.plan_id, []).append(plan)
    for plan_id, versions in by_id.items():
        versions.sort(key=lambda p: p.version)
        for a, b in pairwise(versions):
            if _overlaps(a.effective_from, a.effective_to, b.effective_from, b.effective_to):
                raise PlanValidationError(
                    f"{plan_id}.v{b.version}.yaml: effective_from: overlaps version {a.version}; "
                    "close the earlier version with effective_to first"
                )

    assignments_path = plans_dir / ASSIGNMENTS_FILE
    if not assignments_path.exists():
        raise PlanValidationError(f"{ASSIGNMENTS_FILE}: <file>: missing; every plan needs assignments")
    hashes[ASSIGNMENTS_FILE] = hashlib.sha256(assignments_path.read_bytes()).hexdigest()
    try:
        assignments = AssignmentsFile.model_validate(_read_yaml(assignments_path)).assignments
    except ValidationError as exc:
        raise PlanValidationError(_format_errors(assignments_path, exc)) from None

    seen_ids: set[str] = set()
    for i, a in enumerate(assignments):
        where = f"{ASSIGNMENTS_FILE}: assignments.{i}"
        if a.assignment_id in seen_ids:
            raise PlanValidationError(f"{where}.assignment_id: duplicate id {a.assignment_id!r}")
        seen_ids.add(a.assignment_id)
        if a.plan_id not in by_id:
            raise PlanValidationError(f"{where}.plan_id: unknown plan {a.plan_id!r}; known: {sorted(by_id)}")
        for j, b in enumerate(assignments[:i]):
            if a.match == b.match and _overlaps(a.effective_from, a.effective_to, b.effective_from, b.effective_to):
                raise PlanValidationError(
                    f"{where}.effective_from: overlaps assignments.{j} ({b.assignment_id}) for the same match"
                )
    return PlanBundle(plans=tuple(plans), assignments=tuple(assignments), file_hashes=hashes)


PLAN_TABLES_DDL = {
    "plans__plan_versions": """
        plan_id varchar not null, plan_version integer not null, plan_name varchar not null,
        description varchar, effective_from date not null, effective_to date, tier_method varchar not null,
        quota_period varchar not null, payout_cap_multiple decimal(9,4), commission_threshold decimal(9,4),
        attainment_cap decimal(9,4), content_hash varchar not null,
        _load_id varchar not null, _loaded_at timestamp not null, rate_cap decimal(9,6),
        pay_basis varchar, attainment_basis varchar, fx_policy varchar, clawback_window_months integer,
        clawback_on_uncollectible boolean, clawback_on_churn boolean, draw_kind varchar,
        draw_monthly_share decimal(9,4), draw_months_from_hire integer, draw_recovery_share decimal(9,4)
    """,
    "plans__plan_tiers": """
        plan_id varchar not null, plan_version integer not null, tier_number integer not null,
        from_attainment decimal(9,4) not null, to_attainment decimal(9,4), rate decimal(9,6) not null,
        _load_id varchar not null, _loaded_at timestamp not null
    """,
    "plans__plan_credit_types": """
        plan_id varchar not null, plan_version integer not null, credit_type varchar not null,
        _load_id varchar not null, _loaded_at timestamp not null
    """,
    "plans__plan_bonuses": """
        plan_id varchar not null, plan_version integer not null, bonus_id varchar not null,
        applies_to varchar not null, min_contract_term_months integer, rate_on_credit decimal(9,6),
        share_of_monthly_target_incentive decimal(9,4), _load_id varchar not null, _loaded_at timestamp not null
    """,
    "plans__assignments": """
        assignment_id varchar not null, match_job_role varchar, match_employee_id varchar,
        plan_id varchar not null, effective_from date not null, effective_to date,
        _load_id varchar not null, _loaded_at timestamp not null
    """,
}


PLAN_VERSION_COLUMNS_ADDED = (
    "commission_threshold decimal(9,4)",
    "attainment_cap decimal(9,4)",
    "rate_cap decimal(9,6)",
    "pay_basis varchar",
    "attainment_basis varchar",
    "fx_policy varchar",
    "clawback_window_months integer",
    "clawback_on_uncollectible boolean",
    "clawback_on_churn boolean",
    "draw_kind varchar",
    "draw_monthly_share decimal(9,4)",
    "draw_months_from_hire integer",
    "draw_recovery_share decimal(9,4)",
)


PLAN_VERSION_INSERT_COLUMNS = (
    "plan_id",
    "plan_version",
    "plan_name",
    "description",
    "effective_from",
    "effective_to",
    "tier_method",
    "quota_period",
    "payout_cap_multiple",
    "commission_threshold",
    "attainment_cap",
    "content_hash",
    "_load_id",
    "_loaded_at",
    "rate_cap",
    "pay_basis",
    "attainment_basis",
    "fx_policy",
    "clawback_window_months",
    "clawback_on_uncollectible",
    "clawback_on_churn",
    "draw_kind",
    "draw_monthly_share",
    "draw_months_from_hire",
    "draw_recovery_share",
)


def ensure_plan_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("create schema if not exists raw")
    for table, ddl in PLAN_TABLES_DDL.items():
        conn.execute(f"create table if not exists raw.{table} ({ddl})")
    # Columns added to the plan schema after a warehouse was created (history stays; new columns are null).
    for column in PLAN_VERSION_COLUMNS_ADDED:
        conn.execute(f"alter table raw.plans__plan_versions add column if not exists {column}")


def _plan_hash(plan: CompPlan) -> str:
    """Hash of the plan's meaning. Defaults are excluded so that adding an optional field to the schema later
    does not make every already-loaded plan version look changed. Worked examples are documentation, not
    meaning, so adding one does not create a new version either."""
    content = plan.model_dump(mode="json", exclude_defaults=True, exclude={"examples"})
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class PlanLoadResult:
    load_id: str
    plan_versions_added: int
    assignments_replaced: bool
    plan_versions: tuple[str, ...]


def load_plans(conn: duckdb.DuckDBPyConnection, plans_dir: Path, *, now: datetime | None = None) -> PlanLoadResult:
    """Validate the plan folder and append new plan versions / a new assignments snapshot, atomically.

    A plan version already in the warehouse with a different content hash is refused: people may already have
    been paid under it, so changing it in place would make past payouts unexplainable. Bump `version` instead.
    """
    bundle = load_plan_bundle(plans_dir)
    loaded_at = (now or datetime.now(UTC)).replace(tzinfo=None)
    load_id = bundle.content_hash[:16]
    ensure_plan_tables(conn)
    existing = {
        (pid, ver): h
        for pid, ver, h in conn.execute(
            "select plan_id, plan_version, content_hash from raw.plans__plan_versions"
        ).fetchall()
    }
    added = 0
    conn.execute("begin transaction")
    try:
        for plan in bundle.plans:
            content_hash = _plan_hash(plan)
            key = (plan.plan_id, plan.version)
            if key in existing:
                if existing[key] != content_hash:
                    raise PlanValidationError(
                        f"{plan.plan_id}.v{plan.version}.yaml: version: content changed after version "
                        f"{plan.version} was loaded; plan versions are immutable, add v{plan.version + 1} instead"
                    )
                continue
            conn.execute(
                f"insert into raw.plans__plan_versions ({', '.join(PLAN_VERSION_INSERT_COLUMNS)}) "
                f"values ({', '.join('?' for _ in PLAN_VERSION_INSERT_COLUMNS)})",
                [
                    plan.plan_id,
                    plan.version,
                    plan.name,
                    plan.description,
                    plan.effective_from,
                    plan.effective_to,
                    plan.tier_method,
                    plan.quota_period,
                    plan.payout_cap.multiple_of_monthly_target_incentive if plan.payout_cap else None,
                    plan.commission_threshold,
                    plan.attainment_cap,
                    content_hash,
                    load_id,
                    loaded_at,
                    plan.rate_cap,
                    plan.pay_basis,
                    plan.attainment_basis,
                    plan.fx_policy,
                    plan.clawback.window_months if plan.clawback else None,
                    ("uncollectible_invoice" in plan.clawback.events) if plan.clawback else None,
                    ("churn" in plan.clawback.events) if plan.clawback else None,
                    plan.draw.kind if plan.draw else None,
                    plan.draw.monthly_share_of_target_incentive if plan.draw else None,
                    plan.draw.months_from_hire if plan.draw else None,
                    plan.draw.recovery_share if plan.draw else None,
                ],
            )
            conn.executemany(
                "insert into raw.plans__plan_tiers values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        plan.plan_id,
                        plan.version,
                        n,
                        t.from_attainment,
                        t.to_attainment,
                        t.rate,
                        load_id,
                        loaded_at,
                    ]
                    for n, t in enumerate(plan.tiers, start=1)
                ],
            )
            if plan.bonuses:
                conn.executemany(
                    "insert into raw.plans__plan_bonuses values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        [
                            plan.plan_id,
                            plan.version,
                            b.bonus_id,
                            b.applies_to,
                            b.min_contract_term_months,
                            b.rate_on_credit,
                            b.share_of_monthly_target_incentive,
                            load_id,
                            loaded_at,
                        ]
                        for b in plan.bonuses
                    ],
                )
            conn.executemany(
                "insert into raw.plans__plan_credit_types values (?, ?, ?, ?, ?)",
                [[plan.plan_id, plan.version, ct, load_id, loaded_at] for ct in plan.credit_types],
            )
            added += 1

        # Assignments are a snapshot: append a new one only when the file's content changed.
        previous = conn.execute(
            "select _load_id from raw.plans__assignments order by _loaded_at desc, _load_id desc limit 1"
        ).fetchone()
        assignments_hash = bundle.file_hashes[ASSIGNMENTS_FILE][:16]
        replaced = previous is None or previous[0] != assignments_hash
        if replaced:
            conn.executemany(
                "insert into raw.plans__assignments values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        a.assignment_id,
                        a.match.job_role,
                        a.match.employee_id,
                        a.plan_id,
                        a.effective_from,
                        a.effective_to,
                        assignments_hash,
                        loaded_at,
                    ]
                    for a in bundle.assignments
                ],
            )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    versions = tuple(sorted(f"{p.plan_id}.v{p.version}" for p in bundle.plans))
    log.info("plans loaded: %d new plan version(s), assignments replaced=%s", added, replaced)
    return PlanLoadResult(load_id, added, replaced, versions)
