"""Source contracts: what each landed source entity must look like.

One `SourceContract` per source entity (SPEC §2). The demo generator writes exactly these shapes, the loader
validates landed files against them, and the dbt sources read the raw tables they produce. Keeping the three
in one declarative table means a column added here is added everywhere, and a contract violation can always
name the source, the file, the row and the rule that was broken.

Types are DuckDB SQL types; they are portable names (varchar, date, timestamp, boolean, integer, decimal) so
the same raw layer can be recreated on PostgreSQL or Spark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

FileFormat = Literal["csv", "jsonl", "parquet"]

MONEY = "decimal(18,2)"
PERCENT = "decimal(9,4)"
RATE = "decimal(18,8)"

MONEY_MAX = Decimal("9999999999999.99")
"""The largest absolute amount a money column accepts: 13 integer digits, 10^13 - 0.01 (about USD 625 million in
IDR, 400 million in VND, 7 billion in KRW). Why 13 (docs/compensation-engine.md, "Amount range"):

* every amount the engine derives without FX fits its decimal(18, 2) columns (16 integer digits): a credit is at
  most the amount times the largest split percent PERCENT allows (99,999.9999 %, a factor below 1,000);
* 13 + 2 decimals = 15 significant digits, what a double carries exactly: a JSON number is read as a double
  (billing's JSONL extracts), and the engine's unrounded fractions (clawback, release) are doubles whose spacing
  stays below 0.002 under 10^13, so every amount still rounds to the right cent.

A larger value is quarantined (`max_value:<column>`) with its record key. What no bound on sources can keep in
range is an FX conversion at a cross rate far above 1; the engine names such a credit (dbt macro fit_decimal)."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    """Closed vocabulary (e.g. invoice status). A value outside it is a quarantinable row error."""
    non_negative: bool = False
    max_value: Decimal | None = None
    """The largest absolute value allowed (`MONEY_MAX` for money); a larger one is a quarantinable row error
    (`max_value:<column>`). Absolute, so it bounds a credit note (a negative invoice) too."""
    positive: bool = False
    """Strictly greater than zero (an FX rate: a zero rate would zero every amount converted with it)."""
    references: str | None = None
    """`<source>__<entity>.<column>` this column points to (a foreign key between sources). A current record
    whose value names no record there is an orphan, named by the publication gate `source_references_resolve`."""
    not_after_load: bool = False
    """The time the source system last changed the record. A value later than the load (beyond the loader's
    clock tolerance) is a quarantinable row error: versions are ordered by it, so a record stamped in the future
    would outrank every real correction until that date arrives."""


@dataclass(frozen=True)
class RowRule:
    """A rule across columns of one row, checked at load like a column rule: a row that breaks it is quarantined
    with `rule` and `detail`, and the rest of the file loads.

    `violation` is SQL over the row's *typed* values, with each contract column written as `{column}` and the
    loader's clock tolerance as `{tolerance}` (an interval); it is true when the row breaks the rule (null
    counts as not broken: missing values have their own `not_null` rules).
    """

    rule: str
    detail: str
    violation: str


@dataclass(frozen=True)
class SourceContract:
    source: str
    """System the data comes from: crm, hr, billing, salesops, fx."""
    entity: str
    file_format: FileFormat
    columns: tuple[Column, ...]
    version_key: tuple[str, ...]
    """Columns identifying one *version* of a record. A row whose version key was already loaded is a
    duplicate delivery and is skipped, so overlapping extracts never double-count."""
    record_key: tuple[str, ...]
    """Columns identifying the business record (staging keeps the latest version per record key)."""
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    row_rules: tuple[RowRule, ...] = ()
    relevant_until: str | None = None
    """SQL condition over a current record `c` (it may read the raw layer) that is true when the record can reach
    pay or marts of months up to `{end}` (a date literal): a quota of that period, a deal won by then, an HR row
    in force by then. An orphan reference of a record outside it (next month's quota for a hire HR has not sent
    yet) does not block the publication of earlier months. None: always relevant."""
    deleted_flag: str | None = None
    """Boolean column marking a record removed at the source (its references no longer matter)."""
    restated_by_delivery: bool = False
    """The source carries no change stamp (an FX feed): a later delivery of a loaded key with other content is a
    *restatement*, loaded as the record's newest version (staging keeps the latest delivery), not a conflict.
    Two contents for one key inside one file stay a conflict, since nothing says which of them is meant."""

    @property
    def name(self) -> str:
        return f"{self.source}__{self.entity}"

    @property
    def landing_folder(self) -> str:
        """Files for this entity live directly in `<landing>/<source>/<entity>/`."""
        return f"{self.source}/{self.entity}"

    @property
    def landing_glob(self) -> str:
        """`<source>/<entity>/*.<ext>` (the extension's case does not matter)."""
        return f"{self.landing_folder}/*.{self.file_format}"

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def change_stamp(self) -> str | None:
        """The column versions are ordered by (`last_modified`, `updated_at`); None when ordered by delivery."""
        return next((c.name for c in self.columns if c.not_after_load), None)


def _dates_in_order(start: str, end: str) -> RowRule:
    """`end` is not before `start` (when both are given): an inverted range covers no day, or every day, depending
    on who reads it; the source has to say which it meant."""
    return RowRule(
        rule=f"date_order:{start}<={end}",
        detail=f"{end} is before {start}",
        violation=f"{{{end}}} < {{{start}}}",
    )


def _c(name: str, type_: str, nullable: bool = True, **kw) -> Column:
    return Column(name=name, type=type_, nullable=nullable, **kw)


def _money(name: str, nullable: bool = True, **kw) -> Column:
    """A money column: MONEY, at most `MONEY_MAX` in absolute value."""
    return Column(name=name, type=MONEY, nullable=nullable, max_value=MONEY_MAX, **kw)


def _extracted_at(name: str) -> Column:
    """The source's last-change timestamp: required, and never later than the load."""
    return Column(name=name, type="timestamp", nullable=False, not_after_load=True)


CONTRACTS: tuple[SourceContract, ...] = (
    SourceContract(
        source="crm",
        entity="users",
        file_format="csv",
        description="CRM (Salesforce-like) users: the identities deals are owned by and split to.",
        columns=(
            _c("user_id", "varchar", False),
            _c("full_name", "varchar", False),
            _c("email", "varchar"),
            _c("is_active", "boolean", False),
            _extracted_at("last_modified"),
        ),
        version_key=("user_id", "last_modified"),
        record_key=("user_id",),
    ),
    SourceContract(
        source="crm",
        entity="accounts",
        file_format="csv",
        description="CRM accounts (customers and prospects) with segment, region and owner.",
        columns=(
            _c("account_id", "varchar", False),
            _c("account_name", "varchar", False),
            _c("segment", "varchar", False, allowed=("SMB", "MidMarket", "Enterprise")),
            _c("region", "varchar", False, allowed=("NA", "EMEA", "APAC", "LATAM")),
            _c("owner_user_id", "varchar", references="crm__users.user_id"),
            _c("created_date", "date", False),
            _extracted_at("last_modified"),
        ),
        version_key=("account_id", "last_modified"),
        record_key=("account_id",),
        relevant_until="c.created_date <= {end}",
    ),
    SourceContract(
        source="crm",
        entity="opportunities",
        file_format="csv",
        description=(
            "CRM opportunities, extracted incrementally on last_modified: every edit (amount, owner, stage, "
            "un-won) arrives as a new version row in a later extract file."
        ),
        columns=(
            _c("opportunity_id", "varchar", False),
            _c("account_id", "varchar", False, references="crm__accounts.account_id"),
            _c("owner_user_id", "varchar", False, references="crm__users.user_id"),
            _c("opportunity_name", "varchar"),
            _c("opportunity_type", "varchar", False, allowed=("new", "expansion", "renewal")),
            _c(
                "stage",
                "varchar",
                False,
                allowed=(
                    "Prospecting",
                    "Qualification",
                    "Proposal",
                    "Negotiation",
                    "Closed Won",
                    "Closed Lost",
                ),
            ),
            _money("amount", False, non_negative=True),
            _c("currency", "varchar", False),
            _c("created_date", "date", False),
            _c("close_date", "date", False),
            _c("is_closed", "boolean", False),
            _c("is_won", "boolean", False),
            _c("contract_term_months", "integer"),
            _extracted_at("last_modified"),
        ),
        version_key=("opportunity_id", "last_modified"),
        record_key=("opportunity_id",),
        relevant_until="c.is_won and c.is_closed and c.close_date <= {end}",
        row_rules=(
            RowRule(
                rule="closed_not_after_last_modified:close_date",
                detail=(
                    "a closed deal's close date is later than its last change (last_modified, plus the clock "
                    "tolerance): a deal cannot have closed after the CRM recorded it as closed"
                ),
                violation="{is_closed} and {close_date} > cast({last_modified} + {tolerance} as date)",
            ),
        ),
    ),
    SourceContract(
        source="crm",
        entity="opportunity_splits",
        file_format="csv",
        description=(
            "Opportunity splits. Revenue splits of one opportunity must sum to 100 %; overlay splits are "
            "extra credit on top. A removed split arrives as a version with is_deleted = true."
        ),
        columns=(
            _c("split_id", "varchar", False),
            _c("opportunity_id", "varchar", False, references="crm__opportunities.opportunity_id"),
            _c("user_id", "varchar", False, references="crm__users.user_id"),
            _c("split_type", "varchar", False, allowed=("revenue", "overlay")),
            _c("split_percent", PERCENT, False, non_negative=True),
            _c("is_deleted", "boolean", False),
            _extracted_at("last_modified"),
        ),
        version_key=("split_id", "last_modified"),
        record_key=("split_id",),
        # a split of a deal never delivered may be owed for; of a delivered one, only once the deal is won
        relevant_until=(
            "not exists (select 1 from raw.crm__opportunities as o where o.opportunity_id = c.opportunity_id)"
            " or exists (select 1 from raw.crm__opportunities as o where o.opportunity_id = c.opportunity_id"
            " and o.is_won and o.is_closed and o.close_date <= {end})"
        ),
        deleted_flag="is_deleted",
    ),
    SourceContract(
        source="hr",
        entity="workers",
        file_format="csv",
        description=(
            "HR (Workday-like) effective-dated worker records: one row per employee per effective_from; a "
            "role, manager, region or target-incentive change opens a new row."
        ),
        columns=(
            _c("employee_id", "varchar", False),
            _c("crm_user_id", "varchar", references="crm__users.user_id"),
            _c("full_name", "varchar", False),
            _c("job_role", "varchar", False, allowed=("AE", "SE", "SALES_MANAGER", "SALES_DIRECTOR")),
            _c("manager_employee_id", "varchar", references="hr__workers.employee_id"),
            _c("region", "varchar", False, allowed=("NA", "EMEA", "APAC", "LATAM")),
            _c("pay_currency", "varchar", False),
            _c("hire_date", "date", False),
            _c("termination_date", "date"),
            _money("target_incentive_annual", False, non_negative=True),
            _c("effective_from", "date", False),
            _c("effective_to", "date"),
            _extracted_at("last_modified"),
        ),
        version_key=("employee_id", "effective_from", "last_modified"),
        record_key=("employee_id", "effective_from"),
        relevant_until="c.effective_from <= {end}",
        row_rules=(_dates_in_order("effective_from", "effective_to"), _dates_in_order("hire_date", "termination_date")),
    ),
    SourceContract(
        source="hr",
        entity="leaves",
        file_format="csv",
        description="Leaves of absence; unpaid leave reduces the active days quota is prorated by.",
        columns=(
            _c("leave_id", "varchar", False),
            _c("employee_id", "varchar", False, references="hr__workers.employee_id"),
            _c("leave_type", "varchar", False, allowed=("unpaid", "parental", "sick", "sabbatical")),
            _c("is_paid", "boolean", False),
            _c("start_date", "date", False),
            _c("end_date", "date", False),
            _extracted_at("last_modified"),
        ),
        version_key=("leave_id", "last_modified"),
        record_key=("leave_id",),
        relevant_until="c.start_date <= {end}",
        row_rules=(_dates_in_order("start_date", "end_date"),),
    ),
    SourceContract(
        source="billing",
        entity="customers",
        file_format="jsonl",
        description="Billing (Stripe-like) customers, linked to CRM accounts.",
        columns=(
            _c("customer_id", "varchar", False),
            _c("crm_account_id", "varchar", references="crm__accounts.account_id"),
            _c("customer_name", "varchar", False),
            _c("currency", "varchar", False),
            _c("created_at", "timestamp", False),
            _extracted_at("last_modified"),
        ),
        version_key=("customer_id", "last_modified"),
        record_key=("customer_id",),
        relevant_until="cast(c.created_at as date) <= {end}",
    ),
    SourceContract(
        source="billing",
        entity="subscriptions",
        file_format="jsonl",
        description="Billing subscriptions: the recurring revenue retention (ARR) is computed from.",
        columns=(
            _c("subscription_id", "varchar", False),
            _c("customer_id", "varchar", False, references="billing__customers.customer_id"),
            _c("crm_opportunity_id", "varchar", references="crm__opportunities.opportunity_id"),
            _c("status", "varchar", False, allowed=("active", "canceled", "past_due", "trialing")),
            _c("start_date", "date", False),
            _c("end_date", "date"),
            _c("billing_interval", "varchar", False, allowed=("month", "year")),
            _money("recurring_amount", False, non_negative=True),
            _c("currency", "varchar", False),
            _extracted_at("last_modified"),
        ),
        version_key=("subscription_id", "last_modified"),
        record_key=("subscription_id",),
        relevant_until="c.start_date <= {end}",
        row_rules=(_dates_in_order("start_date", "end_date"),),
    ),
    SourceContract(
        source="billing",
        entity="invoices",
        file_format="jsonl",
        description="Billing invoices with their collection status (paid, open, void, uncollectible).",
        columns=(
            _c("invoice_id", "varchar", False),
            _c("customer_id", "varchar", False, references="billing__customers.customer_id"),
            _c("subscription_id", "varchar", references="billing__subscriptions.subscription_id"),
            _c("crm_opportunity_id", "varchar", references="crm__opportunities.opportunity_id"),
            _c("invoice_date", "date", False),
            _c("due_date", "date", False),
            _money("amount", False),
            _c("currency", "varchar", False),
            _c("status", "varchar", False, allowed=("draft", "open", "paid", "void", "uncollectible")),
            _c("paid_at", "timestamp"),
            _extracted_at("last_modified"),
        ),
        version_key=("invoice_id", "last_modified"),
        record_key=("invoice_id",),
        relevant_until="c.invoice_date <= {end}",
    ),
    SourceContract(
        source="salesops",
        entity="quotas",
        file_format="csv",
        description="The sales-ops quota sheet: one quota per employee per period, full (unprorated) amount.",
        columns=(
            _c("employee_id", "varchar", False, references="hr__workers.employee_id"),
            _c("period_type", "varchar", False, allowed=("month", "quarter", "year")),
            _c("period_start", "date", False),
            _money("quota_amount", False, non_negative=True),
            _c("currency", "varchar", False),
            _extracted_at("updated_at"),
        ),
        version_key=("employee_id", "period_type", "period_start", "updated_at"),
        record_key=("employee_id", "period_type", "period_start"),
        relevant_until="c.period_start <= {end}",
    ),
    SourceContract(
        source="fx",
        entity="rates",
        file_format="parquet",
        description=(
            "Daily FX rates: units of the reporting currency (USD) for one unit of `currency`. A rate feed sends "
            "no change stamp, so a corrected rate re-sent in a later file restates the earlier one."
        ),
        columns=(
            _c("rate_date", "date", False),
            _c("currency", "varchar", False),
            _c("rate_to_reporting", RATE, False, positive=True),
        ),
        version_key=("rate_date", "currency"),
        record_key=("rate_date", "currency"),
        restated_by_delivery=True,
    ),
)

REPORTING_CURRENCY = "USD"

CONTRACTS_BY_NAME: dict[str, SourceContract] = {c.name: c for c in CONTRACTS}


def contract(name: str) -> SourceContract:
    """Look a contract up by `<source>__<entity>`, with an error that lists the known ones."""
    try:
        return CONTRACTS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown source entity {name!r}; known: {sorted(CONTRACTS_BY_NAME)}") from None
