"""The fault classes: what bad input arrives, which stage must catch it, and what the platform must do.

Each `FaultCase` lands one fault as a new delivery on a copy of the published baseline (installation.py) and
names its expected outcome:

* `raises`: the whole file (or plan folder) is refused with an error naming source, file, rule (and line);
  nothing of it is loaded;
* `quarantined`: the bad row goes to `raw._quarantine` with its rule and record key and the rest loads; the
  publication gate `no_unresolved_quarantined_source_rows` then blocks any payout it could change (one case
  runs that end to end);
* `blocked`: the data loads, and a publication gate refuses to publish, naming the gate and the offending key;
* `accepted`: the input is legitimate and handled (a skipped duplicate, recorded drift, a prior-period
  adjustment for late data).

Tests (test_load_faults.py, test_publish_faults.py) run every case and assert its outcome and that nothing
already published changed; `render_report.py` writes the table in docs/reliability.md from this list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from .deliveries import contract_columns, delivery_path, land_records, latest_raw_record, write_csv
from .installation import Installation

Stage = Literal["load", "plans", "publish"]
Kind = Literal["raises", "quarantined", "blocked", "accepted"]


@dataclass(frozen=True)
class Expected:
    kind: Kind
    rule: str
    """The loader rule, plan error, quarantine rule or gate name that must be reported."""
    fragments: tuple[str, ...] = ()
    """Text the error / quarantine key / gate sample must contain (the key or file it names)."""
    entity: str | None = None
    """For `quarantined`: the source entity; for `accepted`: what to check (see the tests)."""


@dataclass(frozen=True)
class FaultCase:
    name: str
    fault: str
    """What arrives, in a sentence (the report's second column)."""
    outcome: str
    """What the platform does, in a sentence (the report's third column)."""
    stage: Stage
    inject: Callable[[Installation], object]
    expected: Expected


# ------------------------------------------------------------------------------------------------ input helpers

WON = "is_won and is_closed"


def _opportunity(installation: Installation, **changes: object) -> dict:
    """A new closed-won opportunity of an active AE (U000005, E000005), closing in March 2025, in USD."""
    record = latest_raw_record(
        installation.warehouse_path, "crm__opportunities", f"owner_user_id = 'U000005' and {WON}"
    )
    record.update(
        opportunity_id="OPP-FAULT-1",
        opportunity_type="new",
        stage="Closed Won",
        is_closed=True,
        is_won=True,
        amount="50000.00",
        currency="USD",
        created_date="2025-02-01",
        close_date="2025-03-20",
        last_modified="2025-03-20T10:00:00",
    )
    record.update(changes)
    return record


def _land_opportunity(**changes: object) -> Callable[[Installation], Path]:
    return lambda inst: land_records(inst.landing_dir, "crm__opportunities", [_opportunity(inst, **changes)])


def _opportunity_file_with_tail(tail: str, *, encoding: str = "utf-8") -> Callable[[Installation], Path]:
    """A CSV of one valid opportunity row, then `tail` appended verbatim (the malformed part)."""

    def inject(inst: Installation) -> Path:
        path = land_records(inst.landing_dir, "crm__opportunities", [_opportunity(inst)])
        with path.open("ab") as f:
            f.write(tail.encode(encoding))
        return path

    return inject


def _opportunity_csv_with_header(header: list[str]) -> Callable[[Installation], Path]:
    def inject(inst: Installation) -> Path:
        record = _opportunity(inst)
        values = [record.get(c, "extra") for c in header]
        return write_csv(delivery_path(inst.landing_dir, "crm__opportunities"), header, [values])

    return inject


def _write_bytes(entity: str, data: bytes, ext: str | None = None) -> Callable[[Installation], Path]:
    def inject(inst: Installation) -> Path:
        path = delivery_path(inst.landing_dir, entity, ext=ext)
        path.write_bytes(data)
        return path

    return inject


def _rewrite_loaded_file(inst: Installation) -> Path:
    """Edit an extract that was already loaded (in place, as a source re-export under the same name would)."""
    path = inst.landing_dir / "salesops" / "quotas" / "quotas_2025-01.csv"
    path.write_text(path.read_text().replace("\n", "\r\n"))
    return path


def _land_invoice_line(text: str) -> Callable[[Installation], Path]:
    def inject(inst: Installation) -> Path:
        path = delivery_path(inst.landing_dir, "billing__invoices")
        path.write_text(text)
        return path

    return inject


def _quota(inst: Installation, **changes: object) -> dict:
    record = latest_raw_record(inst.warehouse_path, "salesops__quotas", "employee_id = 'E000005'")
    record.update(changes)
    return record


def _land_quota_conflict(inst: Installation) -> Path:
    """Two versions of E000005's March quota with the same `updated_at` and different amounts, in one file."""
    base = _quota(inst, period_type="month", period_start="2025-03-01", updated_at="2025-03-21T08:00:00")
    return land_records(
        inst.landing_dir, "salesops__quotas", [dict(base, quota_amount="100000.00"), dict(base, quota_amount="1000.00")]
    )


def _land_redelivered_quota_version(inst: Installation) -> Path:
    """A version already loaded (same employee, period and `updated_at`) arriving again with another amount."""
    loaded = _quota(inst)
    return land_records(inst.landing_dir, "salesops__quotas", [dict(loaded, quota_amount="1.00")])


def _land_identical_redelivery(inst: Installation) -> Path:
    loaded = _quota(inst)
    return land_records(inst.landing_dir, "salesops__quotas", [loaded, loaded])


def _cut_revenue_split(inst: Installation) -> Path:
    """Cut one revenue split of a deal won in March by 10 points (the deal's splits now sum to 90 %)."""
    (split_id,) = inst.query(
        """select s.split_id from staging.stg_crm__opportunity_splits s
           join staging.stg_crm__opportunities o using (opportunity_id)
           where s.split_type = 'revenue' and not s.is_deleted and o.is_won and o.is_closed
             and o.close_date between date '2025-03-01' and date '2025-03-31'
           order by s.split_id limit 1"""
    )[0]
    split = latest_raw_record(inst.warehouse_path, "crm__opportunity_splits", "split_id = ?", [split_id])
    split.update(split_percent=float(split["split_percent"]) - 10, last_modified="2025-03-31T23:00:00")
    return land_records(inst.landing_dir, "crm__opportunity_splits", [split])


def _worker(inst: Installation, like_employee_id: str, /, **changes: object) -> dict:
    """The latest HR row of `like_employee_id`, with `changes` (which may give it another employee id)."""
    record = latest_raw_record(inst.warehouse_path, "hr__workers", "employee_id = ?", [like_employee_id])
    record.update(changes)
    return record


def _land_workers(*rows: Callable[[Installation], dict]) -> Callable[[Installation], Path]:
    return lambda inst: land_records(inst.landing_dir, "hr__workers", [row(inst) for row in rows])


def _land_rates(*rows: dict) -> Callable[[Installation], Path]:
    return lambda inst: land_records(inst.landing_dir, "fx__rates", list(rows))


def _land_both(*injects: Callable[[Installation], object]) -> Callable[[Installation], None]:
    def inject(inst: Installation) -> None:
        for one in injects:
            one(inst)

    return inject


def _edit_plan(file: str, change: Callable[[dict], None]) -> Callable[[Installation], Path]:
    """Edit a plan file in the installation's own copy of the plans folder (plans as code, under review)."""

    def inject(inst: Installation) -> Path:
        path = inst.settings.plans_dir / file
        document = yaml.safe_load(path.read_text())
        change(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return inject


def _write_plan_text(file: str, text: str) -> Callable[[Installation], Path]:
    def inject(inst: Installation) -> Path:
        path = inst.settings.plans_dir / file
        path.write_text(text)
        return path

    return inject


OPPORTUNITY_HEADER = contract_columns("crm__opportunities")
DELIVERY = "crm/opportunities/opportunities_2025-03-31-delivery.csv"

# ------------------------------------------------------------------------------------------------------ the cases

CASES: tuple[FaultCase, ...] = (
    # --- files that cannot be trusted as a whole: refused, nothing of them loaded
    FaultCase(
        "malformed_csv_unterminated_quote",
        "a CSV extract whose last line opens a quote it never closes",
        "the file is refused (`malformed_csv`), naming file and line",
        "load",
        _opportunity_file_with_tail('OPP-X,"ACC1,U000005\n'),
        Expected("raises", "malformed_csv", (DELIVERY, "line")),
    ),
    FaultCase(
        "malformed_csv_extra_fields",
        "a CSV line with more fields than the header",
        "the file is refused (`malformed_csv`), naming file and line",
        "load",
        _opportunity_file_with_tail("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n"),
        Expected("raises", "malformed_csv", (DELIVERY, "line")),
    ),
    FaultCase(
        "malformed_json_truncated",
        "a JSON-lines extract cut off in the middle of a record (a truncated transfer)",
        "the file is refused (`malformed_jsonl`), naming the file",
        "load",
        _land_invoice_line('{"invoice_id": "in_X", "customer_id": "cus_0000002", "amount": 12\n'),
        Expected("raises", "malformed_jsonl", ("billing/invoices/invoices_2025-03-31-delivery.jsonl",)),
    ),
    FaultCase(
        "json_record_not_an_object",
        "a JSON-lines record that is an array, not an object",
        "the file is refused, naming file and record number",
        "load",
        _land_invoice_line("[1, 2]\n"),
        Expected("raises", "malformed_jsonl", ("record 1 is not a JSON object",)),
    ),
    FaultCase(
        "missing_column",
        "an opportunities extract without its `amount` column",
        "the file is refused (`missing_columns`), naming the column",
        "load",
        _opportunity_csv_with_header([c for c in OPPORTUNITY_HEADER if c != "amount"]),
        Expected("raises", "missing_columns", (DELIVERY, "amount")),
    ),
    FaultCase(
        "renamed_column",
        "`amount` renamed to `amount_usd` by a source-side change",
        "the file is refused (`missing_columns`: amount); the new name is not guessed",
        "load",
        _opportunity_csv_with_header([("amount_usd" if c == "amount" else c) for c in OPPORTUNITY_HEADER]),
        Expected("raises", "missing_columns", (DELIVERY, "amount")),
    ),
    FaultCase(
        "empty_file",
        "a zero-byte extract",
        "the file is refused (`empty_file`): an empty extract is a failed export, not 'no changes'",
        "load",
        _write_bytes("crm__opportunities", b""),
        Expected("raises", "empty_file", (DELIVERY,)),
    ),
    FaultCase(
        "non_utf8_text",
        "a CSV line in Latin-1 (`Café` as byte 0xE9)",
        "the file is refused (`encoding`), naming file and line",
        "load",
        _opportunity_file_with_tail("OPP-X,ACC1,U000005,Caf\u00e9 deal\n", encoding="latin-1"),
        Expected("raises", "encoding", (DELIVERY, "UTF-8")),
    ),
    FaultCase(
        "duplicate_header_column",
        "a CSV header naming `amount` twice",
        "the file is refused (`duplicate_columns`)",
        "load",
        _opportunity_csv_with_header([*OPPORTUNITY_HEADER, "amount"]),
        Expected("raises", "duplicate_columns", (DELIVERY,)),
    ),
    FaultCase(
        "unreadable_parquet",
        "an FX-rates Parquet file that is not Parquet",
        "the file is refused (`unreadable_parquet`), naming the file",
        "load",
        _write_bytes("fx__rates", b"PAR1 this is not parquet"),
        Expected("raises", "unreadable_parquet", ("fx/rates/rates_2025-03-31-delivery.parquet",)),
    ),
    FaultCase(
        "landed_file_rewritten",
        "an extract already loaded is rewritten in place with other content",
        "refused (`immutable_file`): history payouts were built from never moves; land a new file instead",
        "load",
        _rewrite_loaded_file,
        Expected("raises", "immutable_file", ("salesops/quotas/quotas_2025-01.csv",)),
    ),
    # --- bad rows: quarantined with rule and key, the rest of the file loads
    FaultCase(
        "wrong_type",
        "an opportunity whose amount is `12,5OO.00` (letters, thousands separator)",
        "the row is quarantined (`type:amount`) with its key; the rest loads",
        "load",
        _land_opportunity(amount="12,5OO.00"),
        Expected("quarantined", "type:amount:decimal(18,2)", ("opportunity_id=OPP-FAULT-1",), "crm__opportunities"),
    ),
    FaultCase(
        "invalid_date",
        "an opportunity closing on `2025-02-30`",
        "the row is quarantined (`type:close_date`)",
        "load",
        _land_opportunity(close_date="2025-02-30"),
        Expected("quarantined", "type:close_date:date", ("opportunity_id=OPP-FAULT-1",), "crm__opportunities"),
    ),
    FaultCase(
        "negative_amount",
        "an opportunity amount of -50,000",
        "the row is quarantined (`non_negative:amount`)",
        "load",
        _land_opportunity(amount="-50000.00"),
        Expected("quarantined", "non_negative:amount", ("opportunity_id=OPP-FAULT-1",), "crm__opportunities"),
    ),
    FaultCase(
        "nan_amount",
        "an opportunity amount of `NaN`",
        "the row is quarantined (`finite:amount`, and `non_negative:amount`)",
        "load",
        _land_opportunity(amount="NaN"),
        Expected("quarantined", "finite:amount", ("opportunity_id=OPP-FAULT-1",), "crm__opportunities"),
    ),
    FaultCase(
        "required_value_missing",
        "an opportunity without an owner",
        "the row is quarantined (`not_null:owner_user_id`)",
        "load",
        _land_opportunity(owner_user_id=None),
        Expected("quarantined", "not_null:owner_user_id", ("opportunity_id=OPP-FAULT-1",), "crm__opportunities"),
    ),
    FaultCase(
        "value_outside_vocabulary",
        "an opportunity in stage `Won (verbal)`",
        "the row is quarantined (`allowed_values:stage`)",
        "load",
        _land_opportunity(stage="Won (verbal)"),
        Expected("quarantined", "allowed_values:stage", ("opportunity_id=OPP-FAULT-1",), "crm__opportunities"),
    ),
    FaultCase(
        "future_dated_record",
        "an opportunity version stamped `last_modified` 2031-01-01 (a source clock or export bug)",
        "the row is quarantined (`not_future:last_modified`): it would outrank every real correction until 2031",
        "load",
        _land_opportunity(last_modified="2031-01-01T00:00:00"),
        Expected("quarantined", "not_future:last_modified", ("opportunity_id=OPP-FAULT-1",), "crm__opportunities"),
    ),
    FaultCase(
        "duplicate_id_within_load",
        "two versions of one quota (same employee, period and `updated_at`) with different amounts in one file",
        "the later row is quarantined (`conflicting_duplicate`); the first version loads",
        "load",
        _land_quota_conflict,
        Expected(
            "quarantined",
            "conflicting_duplicate:employee_id,period_type,period_start,updated_at",
            ("employee_id=E000005",),
            "salesops__quotas",
        ),
    ),
    FaultCase(
        "duplicate_id_across_loads",
        "a quota version already loaded arrives again with another amount",
        "quarantined (`conflicting_duplicate`); the loaded version is kept, history is never rewritten",
        "load",
        _land_redelivered_quota_version,
        Expected(
            "quarantined",
            "conflicting_duplicate:employee_id,period_type,period_start,updated_at",
            ("employee_id=E000005",),
            "salesops__quotas",
        ),
    ),
    FaultCase(
        "duplicate_delivery_identical",
        "an overlapping extract re-sends a loaded quota version twice, unchanged",
        "accepted: both rows are counted as duplicates and skipped, nothing is double-counted",
        "load",
        _land_identical_redelivery,
        Expected("accepted", "duplicates_skipped", entity="salesops__quotas"),
    ),
    FaultCase(
        "schema_drift_new_column",
        "an opportunities extract with a new column `forecast_category`",
        "accepted: rows load, the new column is recorded in `raw._schema_drift` (and kept in quarantine records)",
        "load",
        _opportunity_csv_with_header([*OPPORTUNITY_HEADER, "forecast_category"]),
        Expected("accepted", "schema_drift", ("forecast_category",), entity="crm__opportunities"),
    ),
    # --- plans as code
    FaultCase(
        "invalid_plan_file",
        "a plan tier paying a rate of 1.5 (150 % of credit)",
        "refused at plan load, naming file and field (`ae.v1.yaml: tiers.1.rate`); no plan version is loaded",
        "plans",
        _edit_plan("ae.v1.yaml", lambda d: d["tiers"][1].update(rate=1.5)),
        Expected("raises", "PlanValidationError", ("ae.v1.yaml: tiers.1.rate",)),
    ),
    FaultCase(
        "malformed_plan_yaml",
        "a plan file that is not valid YAML",
        "refused at plan load, naming the file",
        "plans",
        _write_plan_text("ae.v1.yaml", "plan_id: [unclosed\n"),
        Expected("raises", "PlanValidationError", ("ae.v1.yaml: <file>: not valid YAML",)),
    ),
    FaultCase(
        "plan_assignment_to_unknown_plan",
        "an assignment naming plan `ae_2099`, which does not exist",
        "refused at plan load, naming the assignment",
        "plans",
        _edit_plan("assignments.yaml", lambda d: d["assignments"][0].update(plan_id="ae_2099")),
        Expected("raises", "PlanValidationError", ("assignments.0.plan_id: unknown plan 'ae_2099'",)),
    ),
    FaultCase(
        "published_plan_version_edited",
        "a plan version people were already paid under is edited in place",
        "refused: a loaded plan version is immutable (bump `version` instead)",
        "plans",
        _edit_plan("ae.v1.yaml", lambda d: d["tiers"][0].update(rate=round(d["tiers"][0]["rate"] + 0.01, 4))),
        Expected("raises", "PlanValidationError", ("ae.v1.yaml: version: content changed after version 1",)),
    ),
    # --- loads, but must not be paid: the publication gates block, naming the key
    FaultCase(
        "quarantined_row_blocks_publication",
        "a March opportunity arrives with an amount that is not a number",
        "quarantined at load, then publication of March is blocked until a valid version of the deal arrives",
        "publish",
        _land_opportunity(amount="fifty thousand"),
        Expected("blocked", "no_unresolved_quarantined_source_rows", ("opportunity_id=OPP-FAULT-1", "type:amount")),
    ),
    FaultCase(
        "orphan_foreign_key",
        "a won deal owned by CRM user `U999999`, who does not exist (and for an unknown account)",
        "blocked: `credited_deals_map_to_active_employee` names the opportunity and the user",
        "publish",
        _land_opportunity(owner_user_id="U999999", account_id="ACC9999999"),
        Expected("blocked", "credited_deals_map_to_active_employee", ("OPP-FAULT-1", "U999999")),
    ),
    FaultCase(
        "deal_credited_to_terminated_rep",
        "a deal closing on 2025-03-25, owned by a rep terminated on 2025-03-17",
        "blocked: `credited_deals_map_to_active_employee` names the opportunity and the user",
        "publish",
        _land_opportunity(owner_user_id="U000007", close_date="2025-03-25", last_modified="2025-03-25T10:00:00"),
        Expected("blocked", "credited_deals_map_to_active_employee", ("OPP-FAULT-1", "U000007")),
    ),
    FaultCase(
        "revenue_splits_not_100",
        "one revenue split of a deal won in March cut by 10 points (splits sum to 90 %)",
        "blocked: `revenue_splits_sum_to_100` names the opportunity and the sum",
        "publish",
        _cut_revenue_split,
        Expected("blocked", "revenue_splits_sum_to_100", ("revenue splits sum to 90",)),
    ),
    FaultCase(
        "overlapping_hr_ranges",
        "HR sends a row for E000005 effective 2025-02-15 to 2025-12-31 and another effective 2025-03-01",
        "blocked: `hr_effective_ranges_do_not_overlap` names the employee and both rows",
        "publish",
        _land_workers(
            lambda inst: _worker(
                inst,
                "E000005",
                effective_from="2025-02-15",
                effective_to="2025-12-31",
                target_incentive_annual="90000.00",
                last_modified="2025-03-20T09:00:00",
            ),
            lambda inst: _worker(
                inst, "E000005", effective_from="2025-03-01", region="EMEA", last_modified="2025-03-20T09:00:00"
            ),
        ),
        Expected("blocked", "hr_effective_ranges_do_not_overlap", ("employee E000005", "2025-02-15", "2025-03-01")),
    ),
    FaultCase(
        "manager_hierarchy_cycle",
        "from 2025-03-01 the sales director E000001 reports to E000002, who reports to E000001",
        "blocked: `manager_hierarchy_has_no_cycles` names the chain and the first day",
        "publish",
        _land_workers(
            lambda inst: _worker(
                inst,
                "E000001",
                manager_employee_id="E000002",
                effective_from="2025-03-01",
                last_modified="2025-03-20T09:00:00",
            )
        ),
        Expected("blocked", "manager_hierarchy_has_no_cycles", ("E000001 -> E000002 -> E000001 on 2025-03-01",)),
    ),
    FaultCase(
        "quota_missing",
        "a new AE (E000099) hired 2025-03-03 with no quota on the quota sheet",
        "blocked: `plan_participants_have_quota` names the payee-month and plan",
        "publish",
        _land_workers(
            lambda inst: _worker(
                inst,
                "E000024",
                employee_id="E000099",
                crm_user_id="U000099",
                full_name="Pat Newhire",
                hire_date="2025-03-03",
                effective_from="2025-03-03",
                last_modified="2025-03-03T09:00:00",
            )
        ),
        Expected("blocked", "plan_participants_have_quota", ("E000099:2025-03-01",)),
    ),
    FaultCase(
        "quota_duplicated",
        "the quota sheet sends E000005's March quota twice with one timestamp and two amounts",
        "quarantined (`conflicting_duplicate`), then publication is blocked until the sheet is corrected",
        "publish",
        _land_quota_conflict,
        Expected("blocked", "no_unresolved_quarantined_source_rows", ("salesops__quotas", "employee_id=E000005")),
    ),
    FaultCase(
        "unknown_currency",
        "a won deal in currency `XYZ`, which no FX source knows",
        "blocked: `fx_rate_exists` names the credit, the currency pair and the date",
        "publish",
        _land_opportunity(currency="XYZ"),
        Expected("blocked", "fx_rate_exists", ("OPP-FAULT-1", "XYZ->")),
    ),
    FaultCase(
        "missing_fx_rate",
        "a won deal in SEK closing 2025-03-20; the FX source has a SEK rate for 2025-03-03 only",
        "blocked: `fx_rate_exists` names the credit and the missing date (rates are never carried forward)",
        "publish",
        _land_both(
            _land_rates({"rate_date": "2025-03-03", "currency": "SEK", "rate_to_reporting": "0.09500000"}),
            _land_opportunity(currency="SEK"),
        ),
        Expected("blocked", "fx_rate_exists", ("OPP-FAULT-1", "SEK->", "2025-03-20")),
    ),
    FaultCase(
        "late_data_for_closed_month",
        "a deal won on 2025-01-20 (January is closed and paid) first arrives in March",
        "accepted: January and February stay byte-identical; March books the deal as late `adjustment` lines "
        "(`booked_late`) of January's quota period, for the rep and each manager above",
        "publish",
        _land_opportunity(close_date="2025-01-20", created_date="2024-12-01", amount="40000.00"),
        Expected("accepted", "booked_late", ("OPP-FAULT-1",)),
    ),
)

CASES_BY_NAME = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "fault class names must be unique"
