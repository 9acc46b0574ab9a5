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

import duckdb
import yaml

from ingestion.contracts import CONTRACTS_BY_NAME

from .deliveries import contract_columns, delivery_path, land_records, latest_raw_record, write_csv
from .installation import Installation

Stage = Literal["load", "plans", "publish"]
Kind = Literal["raises", "quarantined", "blocked", "accepted"]


@dataclass(frozen=True)
class Expected:
    kind: Kind
    rule: str
    """The loader rule, plan error, quarantine rule or gate name that must be reported; for `accepted`, what
    the case checks (see the tests)."""
    message: str
    """Exactly what a person sees (tests/faults/observe.py says where each kind's message is read)."""
    entity: str | None = None
    """For `quarantined` and load-stage `accepted` cases: the source entity."""
    subject: str | None = None
    """For publish-stage `accepted` cases: the opportunity whose March ledger line explains the outcome."""


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


def _replace_in_plan(file: str, old: str, new: str) -> Callable[[Installation], Path]:
    """Edit a plan file's text (not its parsed YAML, which would already have dropped a repeated key)."""

    def inject(inst: Installation) -> Path:
        path = inst.settings.plans_dir / file
        text = path.read_text()
        assert text.count(old) == 1, f"{file} no longer has exactly one {old!r}"
        path.write_text(text.replace(old, new))
        return path

    return inject


def _land_in(relative_folder: str, name: str, text: str) -> Callable[[Installation], Path]:
    """Write a file anywhere under the landing folder (a misplaced or misnamed delivery)."""

    def inject(inst: Installation) -> Path:
        folder = inst.landing_dir / relative_folder
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(text)
        return path

    return inject


def _land_opportunity_as(name: str, **changes: object) -> Callable[[Installation], Path]:
    """One valid March opportunity in a CSV named `name` in the opportunities folder."""

    def inject(inst: Installation) -> Path:
        columns = contract_columns("crm__opportunities")
        record = _opportunity(inst, **changes)
        folder = inst.landing_dir / "crm" / "opportunities"
        return write_csv(folder / name, columns, [[record.get(c) for c in columns]])

    return inject


def _opportunity_csv_text(inst: Installation) -> str:
    columns = contract_columns("crm__opportunities")
    record = _opportunity(inst)
    return ",".join(columns) + "\n" + ",".join("" if record.get(c) is None else str(record[c]) for c in columns) + "\n"


def _land_zero_rate_then_correction(inst: Installation) -> Path:
    """AUD on 2025-03-05 arrives as 0 (quarantined at load), then the feed re-sends the right rate."""
    from ingestion.loader import load_all

    (rate,) = inst.query(
        "select cast(rate_to_reporting as varchar) from raw.fx__rates"
        " where rate_date = '2025-03-05' and currency = 'AUD'"
    )[0]
    zero = {"rate_date": "2025-03-05", "currency": "AUD", "rate_to_reporting": "0"}
    land_records(inst.landing_dir, "fx__rates", [zero])
    with duckdb.connect(str(inst.warehouse_path)) as conn:
        load_all(conn, inst.landing_dir)
    return land_records(
        inst.landing_dir,
        "fx__rates",
        [{"rate_date": "2025-03-05", "currency": "AUD", "rate_to_reporting": rate}],
        suffix="2025-04-01-correction",
    )


def _split_of_missing_opportunity(inst: Installation) -> Path:
    split = latest_raw_record(inst.warehouse_path, "crm__opportunity_splits", "split_type = 'revenue'")
    split.update(split_id="S-FAULT-1", opportunity_id="OPP-GHOST", last_modified="2025-03-20T10:00:00")
    return land_records(inst.landing_dir, "crm__opportunity_splits", [split])


def _new_version(entity: str, where: str, **changes: object) -> Callable[[Installation], Path]:
    """A new version of one loaded record (its last change stamped 2025-03-20), with `changes`, as a delivery."""

    def inject(inst: Installation) -> Path:
        record = latest_raw_record(inst.warehouse_path, entity, where)
        stamp = CONTRACTS_BY_NAME[entity].change_stamp
        record.update({stamp: "2025-03-20T09:00:00"} if stamp else {})
        record.update(changes)
        return land_records(inst.landing_dir, entity, [record])

    return inject


def _quota_file_as_a_spreadsheet_saves_it(inst: Installation) -> Path:
    """The March quota sheet re-saved by a spreadsheet on Windows: a UTF-8 byte-order mark and CRLF line ends,
    under a new name (its rows are the loaded ones)."""
    text = (inst.landing_dir / "salesops" / "quotas" / "quotas_2025-03.csv").read_text(encoding="utf-8")
    path = delivery_path(inst.landing_dir, "salesops__quotas")
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    return path


def _quota_file_cut_short(inst: Installation) -> Path:
    """The March quota sheet cut off in the middle of its last line (a truncated transfer)."""
    text = (inst.landing_dir / "salesops" / "quotas" / "quotas_2025-03.csv").read_text(encoding="utf-8")
    path = delivery_path(inst.landing_dir, "salesops__quotas")
    path.write_text(text.rstrip("\n")[: text.rstrip("\n").rindex(",")] + "\n", encoding="utf-8")
    return path


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
        Expected(
            "raises",
            "malformed_csv",
            "crm.opportunities: file 'crm/opportunities/opportunities_2025-03-31-delivery.csv' line 3: rule "
            "malformed_csv: Value with unterminated quote found.",
        ),
    ),
    FaultCase(
        "malformed_csv_extra_fields",
        "a CSV line with more fields than the header",
        "the file is refused (`malformed_csv`), naming file and line",
        "load",
        _opportunity_file_with_tail("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n"),
        Expected(
            "raises",
            "malformed_csv",
            "crm.opportunities: file 'crm/opportunities/opportunities_2025-03-31-delivery.csv' line 3: rule "
            "malformed_csv: Expected Number of Columns: 14 Found: 15",
        ),
    ),
    FaultCase(
        "malformed_json_truncated",
        "a JSON-lines extract cut off in the middle of a record (a truncated transfer)",
        "the file is refused (`malformed_jsonl`), naming the file",
        "load",
        _land_invoice_line('{"invoice_id": "in_X", "customer_id": "cus_0000002", "amount": 12\n'),
        Expected(
            "raises",
            "malformed_jsonl",
            "billing.invoices: file 'billing/invoices/invoices_2025-03-31-delivery.jsonl' line 2: rule "
            "malformed_jsonl: Malformed JSON in file \"billing/invoices/invoices_2025-03-31-delivery.jsonl\", at "
            "byte 66 in line 2: unexpected end of data.",
        ),
    ),
    FaultCase(
        "json_record_not_an_object",
        "a JSON-lines record that is an array, not an object",
        "the file is refused, naming file and record number",
        "load",
        _land_invoice_line("[1, 2]\n"),
        Expected(
            "raises",
            "malformed_jsonl",
            "billing.invoices: file 'billing/invoices/invoices_2025-03-31-delivery.jsonl': rule malformed_jsonl: "
            "record 1 is not a JSON object",
        ),
    ),
    FaultCase(
        "missing_column",
        "an opportunities extract without its `amount` column",
        "the file is refused (`missing_columns`), naming the column",
        "load",
        _opportunity_csv_with_header([c for c in OPPORTUNITY_HEADER if c != "amount"]),
        Expected(
            "raises",
            "missing_columns",
            "crm.opportunities: file 'crm/opportunities/opportunities_2025-03-31-delivery.csv': rule "
            "missing_columns: missing contract column(s): amount",
        ),
    ),
    FaultCase(
        "renamed_column",
        "`amount` renamed to `amount_usd` by a source-side change",
        "the file is refused (`missing_columns`: amount); the new name is not guessed",
        "load",
        _opportunity_csv_with_header([("amount_usd" if c == "amount" else c) for c in OPPORTUNITY_HEADER]),
        Expected(
            "raises",
            "missing_columns",
            "crm.opportunities: file 'crm/opportunities/opportunities_2025-03-31-delivery.csv': rule "
            "missing_columns: missing contract column(s): amount",
        ),
    ),
    FaultCase(
        "empty_file",
        "a zero-byte extract",
        "the file is refused (`empty_file`): an empty extract is a failed export, not 'no changes'",
        "load",
        _write_bytes("crm__opportunities", b""),
        Expected(
            "raises",
            "empty_file",
            "crm.opportunities: file 'crm/opportunities/opportunities_2025-03-31-delivery.csv': rule empty_file: "
            "file is empty (zero bytes)",
        ),
    ),
    FaultCase(
        "non_utf8_text",
        "a CSV line in Latin-1 (`Café` as byte 0xE9)",
        "the file is refused (`encoding`), naming file and line",
        "load",
        _opportunity_file_with_tail("OPP-X,ACC1,U000005,Caf\u00e9 deal\n", encoding="latin-1"),
        Expected(
            "raises",
            "encoding",
            "crm.opportunities: file 'crm/opportunities/opportunities_2025-03-31-delivery.csv' line 3: rule "
            "encoding: not valid UTF-8 (byte offset 334)",
        ),
    ),
    FaultCase(
        "duplicate_header_column",
        "a CSV header naming `amount` twice",
        "the file is refused (`duplicate_columns`)",
        "load",
        _opportunity_csv_with_header([*OPPORTUNITY_HEADER, "amount"]),
        Expected(
            "raises",
            "duplicate_columns",
            "crm.opportunities: file 'crm/opportunities/opportunities_2025-03-31-delivery.csv' line 1: rule "
            "duplicate_columns: column 'amount' appears more than once in the header",
        ),
    ),
    FaultCase(
        "unreadable_parquet",
        "an FX-rates Parquet file that is not Parquet",
        "the file is refused (`unreadable_parquet`), naming the file",
        "load",
        _write_bytes("fx__rates", b"PAR1 this is not parquet"),
        Expected(
            "raises",
            "unreadable_parquet",
            "fx.rates: file 'fx/rates/rates_2025-03-31-delivery.parquet': rule unreadable_parquet: No magic bytes "
            "found at end of file 'fx/rates/rates_2025-03-31-delivery.parquet'",
        ),
    ),
    FaultCase(
        "landed_file_rewritten",
        "an extract already loaded is rewritten in place with other content",
        "refused (`immutable_file`): history payouts were built from never moves; land a new file instead",
        "load",
        _rewrite_loaded_file,
        Expected(
            "raises",
            "immutable_file",
            "salesops.quotas: file 'salesops/quotas/quotas_2025-01.csv': rule immutable_file: content changed "
            "since it was loaded (sha256 d1b52d97e84a... is now a3db2110e2ef...); landed files are immutable: "
            "land a new file instead",
        ),
    ),
    # --- bad rows: quarantined with rule and key, the rest of the file loads
    FaultCase(
        "wrong_type",
        "an opportunity whose amount is `12,5OO.00` (letters, thousands separator)",
        "the row is quarantined (`type:amount`) with its key; the rest loads",
        "load",
        _land_opportunity(amount="12,5OO.00"),
        Expected(
            "quarantined",
            "type:amount:decimal(18,2)",
            "crm__opportunities opportunity_id=OPP-FAULT-1: type:amount:decimal(18,2) (value is not a valid "
            "decimal(18,2)) in crm/opportunities/opportunities_2025-03-31-delivery.csv row 1",
            entity="crm__opportunities",
        ),
    ),
    FaultCase(
        "invalid_date",
        "an opportunity closing on `2025-02-30`",
        "the row is quarantined (`type:close_date`)",
        "load",
        _land_opportunity(close_date="2025-02-30"),
        Expected(
            "quarantined",
            "type:close_date:date",
            "crm__opportunities opportunity_id=OPP-FAULT-1: type:close_date:date (value is not a valid date) in "
            "crm/opportunities/opportunities_2025-03-31-delivery.csv row 1",
            entity="crm__opportunities",
        ),
    ),
    FaultCase(
        "negative_amount",
        "an opportunity amount of -50,000",
        "the row is quarantined (`non_negative:amount`)",
        "load",
        _land_opportunity(amount="-50000.00"),
        Expected(
            "quarantined",
            "non_negative:amount",
            "crm__opportunities opportunity_id=OPP-FAULT-1: non_negative:amount (value must be a number >= 0) in "
            "crm/opportunities/opportunities_2025-03-31-delivery.csv row 1",
            entity="crm__opportunities",
        ),
    ),
    FaultCase(
        "nan_amount",
        "an opportunity amount of `NaN`",
        "the row is quarantined (`finite:amount`, and `non_negative:amount`)",
        "load",
        _land_opportunity(amount="NaN"),
        Expected(
            "quarantined",
            "finite:amount",
            "crm__opportunities opportunity_id=OPP-FAULT-1: finite:amount (value is NaN or infinite) in "
            "crm/opportunities/opportunities_2025-03-31-delivery.csv row 1",
            entity="crm__opportunities",
        ),
    ),
    FaultCase(
        "required_value_missing",
        "an opportunity without an owner",
        "the row is quarantined (`not_null:owner_user_id`)",
        "load",
        _land_opportunity(owner_user_id=None),
        Expected(
            "quarantined",
            "not_null:owner_user_id",
            "crm__opportunities opportunity_id=OPP-FAULT-1: not_null:owner_user_id (required value is null or "
            "empty) in crm/opportunities/opportunities_2025-03-31-delivery.csv row 1",
            entity="crm__opportunities",
        ),
    ),
    FaultCase(
        "value_outside_vocabulary",
        "an opportunity in stage `Won (verbal)`",
        "the row is quarantined (`allowed_values:stage`)",
        "load",
        _land_opportunity(stage="Won (verbal)"),
        Expected(
            "quarantined",
            "allowed_values:stage",
            "crm__opportunities opportunity_id=OPP-FAULT-1: allowed_values:stage (value is not one of: "
            "Prospecting, Qualification, Proposal, Negotiation, Closed Won, Closed Lost) in "
            "crm/opportunities/opportunities_2025-03-31-delivery.csv row 1",
            entity="crm__opportunities",
        ),
    ),
    FaultCase(
        "future_dated_record",
        "an opportunity version stamped `last_modified` 2031-01-01 (a source clock or export bug)",
        "the row is quarantined (`not_future:last_modified`): it would outrank every real correction until 2031",
        "load",
        _land_opportunity(last_modified="2031-01-01T00:00:00"),
        Expected(
            "quarantined",
            "not_future:last_modified",
            "crm__opportunities opportunity_id=OPP-FAULT-1: not_future:last_modified (timestamp is later than the "
            "load time (beyond the clock tolerance)) in crm/opportunities/opportunities_2025-03-31-delivery.csv "
            "row 1",
            entity="crm__opportunities",
        ),
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
            "salesops__quotas employee_id=E000005, period_type=month, period_start=2025-03-01: "
            "conflicting_duplicate:employee_id,period_type,period_start,updated_at (version key first delivered "
            "at row 1 of this file with different content) in salesops/quotas/quotas_2025-03-31-delivery.csv row "
            "2",
            entity="salesops__quotas",
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
            "salesops__quotas employee_id=E000005, period_type=month, period_start=2025-03-01: "
            "conflicting_duplicate:employee_id,period_type,period_start,updated_at (version key already loaded "
            "from salesops/quotas/quotas_2025-02.csv row 5 (load_id 0deb418e84e30dd9) with different content) in "
            "salesops/quotas/quotas_2025-03-31-delivery.csv row 1",
            entity="salesops__quotas",
        ),
    ),
    FaultCase(
        "duplicate_delivery_identical",
        "an overlapping extract re-sends a loaded quota version twice, unchanged",
        "accepted: both rows are counted as duplicates and skipped, nothing is double-counted",
        "load",
        _land_identical_redelivery,
        Expected(
            "accepted",
            "duplicates_skipped",
            "salesops__quotas: loaded salesops/quotas/quotas_2025-03-31-delivery.csv (load_id 1dae07577839f867): "
            "read=2 loaded=0 (restated=0) duplicate=2 quarantined=0",
            entity="salesops__quotas",
        ),
    ),
    FaultCase(
        "schema_drift_new_column",
        "an opportunities extract with a new column `forecast_category`",
        "accepted: rows load, the new column is recorded in `raw._schema_drift` (and kept in quarantine records)",
        "load",
        _opportunity_csv_with_header([*OPPORTUNITY_HEADER, "forecast_category"]),
        Expected(
            "accepted",
            "schema_drift",
            "crm__opportunities: crm/opportunities/opportunities_2025-03-31-delivery.csv has column(s) not in the "
            "contract (ignored): forecast_category",
            entity="crm__opportunities",
        ),
    ),
    # --- plans as code
    FaultCase(
        "invalid_plan_file",
        "a plan tier paying a rate of 1.5 (150 % of credit)",
        "refused at plan load, naming file and field (`ae.v1.yaml: tiers.1.rate`); no plan version is loaded",
        "plans",
        _edit_plan("ae.v1.yaml", lambda d: d["tiers"][1].update(rate=1.5)),
        Expected(
            "raises",
            "PlanValidationError",
            "ae.v1.yaml: tiers.1.rate: Input should be less than or equal to 1",
        ),
    ),
    FaultCase(
        "malformed_plan_yaml",
        "a plan file that is not valid YAML",
        "refused at plan load, naming the file",
        "plans",
        _write_plan_text("ae.v1.yaml", "plan_id: [unclosed\n"),
        Expected(
            "raises",
            "PlanValidationError",
            "ae.v1.yaml: <file>: not valid YAML (while parsing a flow sequence\n  in \"<unicode string>\", line 1, "
            "column 10:\n    plan_id: [unclosed\n             ^\nexpected ',' or ']', but got '<stream end>'\n  in "
            "\"<unicode string>\", line 2, column 1:\n    \n    ^)",
        ),
    ),
    FaultCase(
        "plan_assignment_to_unknown_plan",
        "an assignment naming plan `ae_2099`, which does not exist",
        "refused at plan load, naming the assignment",
        "plans",
        _edit_plan("assignments.yaml", lambda d: d["assignments"][0].update(plan_id="ae_2099")),
        Expected(
            "raises",
            "PlanValidationError",
            "assignments.yaml: assignments.0.plan_id: unknown plan 'ae_2099'; known: ['ae', 'sales_director', "
            "'sales_manager', 'se_overlay']",
        ),
    ),
    FaultCase(
        "published_plan_version_edited",
        "a plan version people were already paid under is edited in place",
        "refused: a loaded plan version is immutable (bump `version` instead)",
        "plans",
        _edit_plan("ae.v1.yaml", lambda d: d["tiers"][0].update(rate=round(d["tiers"][0]["rate"] + 0.01, 4))),
        Expected(
            "raises",
            "PlanValidationError",
            "ae.v1.yaml: version: content changed after version 1 was loaded; plan versions are immutable, add v2 "
            "instead",
        ),
    ),
    # --- loads, but must not be paid: the publication gates block, naming the key
    FaultCase(
        "quarantined_row_blocks_publication",
        "a March opportunity arrives with an amount that is not a number",
        "quarantined at load, then publication of March is blocked until a valid version of the deal arrives",
        "publish",
        _land_opportunity(amount="fifty thousand"),
        Expected(
            "blocked",
            "no_unresolved_quarantined_source_rows",
            "no_unresolved_quarantined_source_rows: FAILED (1 offending) - rule: no payout-relevant source row is "
            "sitting in quarantine without a later valid version; sample keys: crm__opportunities "
            "opportunity_id=OPP-FAULT-1: type:amount:decimal(18,2) (value is not a valid decimal(18,2)) in "
            "crm/opportunities/opportunities_2025-03-31-delivery.csv row 1",
        ),
    ),
    FaultCase(
        "orphan_foreign_key",
        "a won deal owned by CRM user `U999999`, who does not exist (and for an unknown account)",
        "blocked: `credited_deals_map_to_active_employee` names the opportunity and the user",
        "publish",
        _land_opportunity(owner_user_id="U999999", account_id="ACC9999999"),
        Expected(
            "blocked",
            "credited_deals_map_to_active_employee",
            "credited_deals_map_to_active_employee: FAILED (1 offending) - rule: every credited closed-won deal "
            "closing in, or first known in, the months being published maps to an employee active on the close "
            "date; sample keys: opportunity OPP-FAULT-1 credit OPP-FAULT-1:owner user U999999 closed 2025-03-20",
        ),
    ),
    FaultCase(
        "deal_credited_to_terminated_rep",
        "a deal closing on 2025-03-25, owned by a rep terminated on 2025-03-17",
        "blocked: `credited_deals_map_to_active_employee` names the opportunity and the user",
        "publish",
        _land_opportunity(owner_user_id="U000007", close_date="2025-03-25", last_modified="2025-03-25T10:00:00"),
        Expected(
            "blocked",
            "credited_deals_map_to_active_employee",
            "credited_deals_map_to_active_employee: FAILED (1 offending) - rule: every credited closed-won deal "
            "closing in, or first known in, the months being published maps to an employee active on the close "
            "date; sample keys: opportunity OPP-FAULT-1 credit OPP-FAULT-1:owner user U000007 closed 2025-03-25",
        ),
    ),
    FaultCase(
        "revenue_splits_not_100",
        "one revenue split of a deal won in March cut by 10 points (splits sum to 90 %)",
        "blocked: `revenue_splits_sum_to_100` names the opportunity and the sum",
        "publish",
        _cut_revenue_split,
        Expected(
            "blocked",
            "revenue_splits_sum_to_100",
            "revenue_splits_sum_to_100: FAILED (1 offending) - rule: the revenue splits of every closed-won "
            "opportunity sum to exactly 100 %; sample keys: opportunity OPP0000116 revenue splits sum to 90.0000 "
            "%",
        ),
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
        Expected(
            "blocked",
            "hr_effective_ranges_do_not_overlap",
            "hr_effective_ranges_do_not_overlap: FAILED (1 offending) - rule: no employee has two HR rows whose "
            "effective ranges overlap on a day that can reach the months' payouts; sample keys: employee E000005: "
            "HR row effective 2025-02-15 to 2025-12-31 overlaps the row effective 2025-03-01",
        ),
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
        Expected(
            "blocked",
            "manager_hierarchy_has_no_cycles",
            "manager_hierarchy_has_no_cycles: FAILED (1 offending) - rule: no employee is their own manager, "
            "directly or up the HR chain, on any day of the months being published; sample keys: manager chain "
            "E000001 -> E000002 -> E000001 on 2025-03-01",
        ),
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
        Expected(
            "blocked",
            "plan_participants_have_quota",
            "plan_participants_have_quota: FAILED (1 offending) - rule: every payee on a plan has a quota for the "
            "plan period (month, quarter or year) covering the month; sample keys: E000099:2025-03-01 (ae, month "
            "quota missing)",
        ),
    ),
    FaultCase(
        "quota_duplicated",
        "the quota sheet sends E000005's March quota twice with one timestamp and two amounts",
        "quarantined (`conflicting_duplicate`), then publication is blocked until the sheet is corrected",
        "publish",
        _land_quota_conflict,
        Expected(
            "blocked",
            "no_unresolved_quarantined_source_rows",
            "no_unresolved_quarantined_source_rows: FAILED (1 offending) - rule: no payout-relevant source row is "
            "sitting in quarantine without a later valid version; sample keys: salesops__quotas "
            "employee_id=E000005, period_type=month, period_start=2025-03-01: "
            "conflicting_duplicate:employee_id,period_type,period_start,updated_at (version key first delivered "
            "at row 1 of this file with different content) in salesops/quotas/quotas_2025-03-31-delivery.csv row "
            "2",
        ),
    ),
    FaultCase(
        "unknown_currency",
        "a won deal in currency `XYZ`, which no FX source knows",
        "blocked: `fx_rate_exists` names the credit, the currency pair and the date",
        "publish",
        _land_opportunity(currency="XYZ"),
        Expected(
            "blocked",
            "fx_rate_exists",
            "fx_rate_exists: FAILED (3 offending) - rule: an FX rate exists for every currency and date a credit "
            "or quota is converted at; sample keys: credit OPP-FAULT-1:owner XYZ->USD on 2025-03-20, credit "
            "OPP-FAULT-1:owner:team:E000001 XYZ->USD on 2025-03-20, credit OPP-FAULT-1:owner:team:E000002 "
            "XYZ->CAD on 2025-03-20",
        ),
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
        Expected(
            "blocked",
            "fx_rate_exists",
            "fx_rate_exists: FAILED (3 offending) - rule: an FX rate exists for every currency and date a credit "
            "or quota is converted at; sample keys: credit OPP-FAULT-1:owner SEK->USD on 2025-03-20, credit "
            "OPP-FAULT-1:owner:team:E000001 SEK->USD on 2025-03-20, credit OPP-FAULT-1:owner:team:E000002 "
            "SEK->CAD on 2025-03-20",
        ),
    ),
    FaultCase(
        "late_data_for_closed_month",
        "a deal won on 2025-01-20 (January is closed and paid) first arrives in March",
        "accepted: January and February stay byte-identical; March books the deal as late `adjustment` lines "
        "(`booked_late`) of January's quota period, for the rep and each manager above",
        "publish",
        _land_opportunity(close_date="2025-01-20", created_date="2024-12-01", amount="40000.00"),
        Expected(
            "accepted",
            "booked_late",
            "Adjustment: tier 2 (1.2000%, retroactive) of the month period from 2025-01-01 on team credit from "
            "opportunity OPP-FAULT-1 (100.0000%) via E000005, closed 2025-01-20, 40000.00 USD at 1.00000000 "
            "(2025-01-20); first counted for this payee in 2025-03-01, after its close month (entered late or "
            "reassigned); attainment 50.85% -> 62.03%. Was 0.00, now 480.00 USD.",
            subject="OPP-FAULT-1",
        ),
    ),

    # --- issue 15: every landed file ends loaded, in flight or refused with a reason
    FaultCase(
        "extension_in_upper_case",
        "an opportunities extract named `.CSV` instead of `.csv`",
        "accepted: loaded like any CSV (the extension's case does not matter)",
        "load",
        _land_opportunity_as("opportunities_2025-03-31-delivery.CSV"),
        Expected(
            "accepted",
            "loaded",
            "crm__opportunities: loaded crm/opportunities/opportunities_2025-03-31-delivery.CSV (load_id "
            "9ab7e5cdc3298d13): read=1 loaded=1 (restated=0) duplicate=0 quarantined=0",
            entity="crm__opportunities",
        ),
    ),
    FaultCase(
        "file_in_another_format",
        "an opportunities export saved as `.xlsx` in the CSV folder",
        "the file is refused (`unexpected_file`), naming it and the format the folder takes; nothing of the "
        "entity loads",
        "load",
        _write_bytes("crm__opportunities", b"PK\x03\x04 a spreadsheet", ext="xlsx"),
        Expected(
            "raises",
            "unexpected_file",
            "crm.opportunities: file 'crm/opportunities/opportunities_2025-03-31-delivery.xlsx': rule "
            "unexpected_file: not a csv file (extension '.xlsx'): crm__opportunities is landed as *.csv; convert "
            "it, or move it out of the landing folder",
        ),
    ),
    FaultCase(
        "file_in_a_subfolder",
        "an opportunities extract dropped into a subfolder `crm/opportunities/2025-03/`",
        "the file is refused (`unexpected_file`): files of an entity go directly in its folder",
        "load",
        lambda inst: _land_in("crm/opportunities/2025-03", "opportunities_2025-03-31.csv", _opportunity_csv_text(inst))(
            inst
        ),
        Expected(
            "raises",
            "unexpected_file",
            "crm.opportunities: file 'crm/opportunities/2025-03/opportunities_2025-03-31.csv': rule "
            "unexpected_file: in a subfolder: files of crm__opportunities go directly in crm/opportunities/",
        ),
    ),
    FaultCase(
        "file_outside_entity_folders",
        "an extract landed in a mistyped folder `crm/opportunites/`",
        "the load is refused (`unclaimed_file`), naming the file and the folders that exist; recorded in "
        "`raw._refused_files`",
        "load",
        lambda inst: _land_in("crm/opportunites", "opportunities_2025-03-31.csv", _opportunity_csv_text(inst))(inst),
        Expected(
            "raises",
            "unclaimed_file",
            "crm.opportunites: file 'crm/opportunites/opportunities_2025-03-31.csv': rule unclaimed_file: not in "
            "the folder of any source entity (<source>/<entity>/: billing/customers, billing/invoices, "
            "billing/subscriptions, crm/accounts, crm/opportunities, crm/opportunity_splits, crm/users, fx/rates, "
            "hr/leaves, hr/workers, salesops/quotas)",
        ),
    ),
    FaultCase(
        "file_still_being_written",
        "a hidden temporary file `.opportunities_2025-03-31.csv.tmp` (a writer has not renamed it yet)",
        "accepted: not loaded, reported as in flight in the log and the asset's metadata; loaded once renamed",
        "load",
        _land_opportunity_as(".opportunities_2025-03-31.csv.tmp"),
        Expected(
            "accepted",
            "in_flight",
            "crm__opportunities: crm/opportunities/.opportunities_2025-03-31.csv.tmp is a hidden (in-flight) "
            "file: not loaded until it is renamed",
            entity="crm__opportunities",
        ),
    ),
    FaultCase(
        "plan_file_duplicate_key",
        "a plan file that states `multiple_of_monthly_target_incentive` twice under `payout_cap` (3.0, then 30.0)",
        "refused at plan load, naming the key and both lines (YAML alone would keep the last silently)",
        "plans",
        _replace_in_plan(
            "ae.v1.yaml",
            "  multiple_of_monthly_target_incentive: 3.0\n",
            "  multiple_of_monthly_target_incentive: 3.0\n  multiple_of_monthly_target_incentive: 30.0\n",
        ),
        Expected(
            "raises",
            "PlanValidationError",
            "ae.v1.yaml: <file>: line 20: duplicate key 'multiple_of_monthly_target_incentive' (first at line "
            "19): each setting is written once; remove or merge the other",
        ),
    ),
    # --- issue 15: FX corrections are restatements, a zero rate never reaches a build
    FaultCase(
        "fx_rate_zero",
        "the FX feed sends AUD on 2025-03-05 at a rate of 0",
        "the row is quarantined (`positive:rate_to_reporting`); the loaded rate stays in force",
        "load",
        _land_rates({"rate_date": "2025-03-05", "currency": "AUD", "rate_to_reporting": "0"}),
        Expected(
            "quarantined",
            "positive:rate_to_reporting",
            "fx__rates rate_date=2025-03-05, currency=AUD: positive:rate_to_reporting (value must be a number > "
            "0) in fx/rates/rates_2025-03-31-delivery.parquet row 1",
            entity="fx__rates",
        ),
    ),
    FaultCase(
        "fx_two_rates_in_one_file",
        "one FX file with two different AUD rates for 2025-03-05",
        "the second is quarantined (`conflicting_duplicate`): nothing says which is meant",
        "load",
        _land_rates(
            {"rate_date": "2025-03-05", "currency": "AUD", "rate_to_reporting": "0.61000000"},
            {"rate_date": "2025-03-05", "currency": "AUD", "rate_to_reporting": "0.62000000"},
        ),
        Expected(
            "quarantined",
            "conflicting_duplicate:rate_date,currency",
            "fx__rates rate_date=2025-03-05, currency=AUD: conflicting_duplicate:rate_date,currency (version key "
            "first delivered at row 1 of this file with different content) in "
            "fx/rates/rates_2025-03-31-delivery.parquet row 2",
            entity="fx__rates",
        ),
    ),
    FaultCase(
        "fx_zero_rate_then_corrected",
        "a zero AUD rate is quarantined, then the feed re-sends the right rate in a later file",
        "accepted: the re-sent rate loads as a restatement, which resolves the quarantine (March can publish)",
        "load",
        _land_zero_rate_then_correction,
        Expected(
            "accepted",
            "quarantine_resolved",
            "fx__rates: loaded fx/rates/rates_2025-04-01-correction.parquet (load_id ad8f496d5966be8a): read=1 "
            "loaded=1 (restated=1) duplicate=0 quarantined=0",
            entity="fx__rates",
        ),
    ),
    FaultCase(
        "fx_rate_restated_for_closed_month",
        "the FX feed re-sends AUD on 2025-01-03 (January is closed and paid) at 0.60 instead of 0.65556993",
        "accepted: the restated rate loads; January stays byte-identical and March books `prior_period_adjustment` "
        "lines (`fx_rate_changed`) for each payee paid at that rate",
        "publish",
        _land_rates({"rate_date": "2025-01-03", "currency": "AUD", "rate_to_reporting": "0.60000000"}),
        Expected(
            "accepted",
            "fx_rate_changed",
            "Prior-period adjustment for 2025-01-01 (closed): credit OPP0000027:owner:team:E000001 was paid "
            "660.14 USD and computes to 604.18 now, because the FX rate changed from 0.65556993 to 0.60000000; "
            "the difference of -55.96 USD is paid here.",
            subject="OPP0000027",
        ),
    ),
    # --- issue 15: no won deal vanishes before the ledger
    FaultCase(
        "close_date_year_in_the_future",
        "a deal marked Closed Won on 2025-03-20 with close date 2205-03-20 (a mistyped year)",
        "the row is quarantined (`closed_not_after_last_modified:close_date`): a deal cannot close after it was "
        "recorded as closed",
        "load",
        _land_opportunity(close_date="2205-03-20"),
        Expected(
            "quarantined",
            "closed_not_after_last_modified:close_date",
            "crm__opportunities opportunity_id=OPP-FAULT-1: closed_not_after_last_modified:close_date (a closed "
            "deal's close date is later than its last change (last_modified, plus the clock tolerance): a deal "
            "cannot have closed after the CRM recorded it as closed) in "
            "crm/opportunities/opportunities_2025-03-31-delivery.csv row 1",
            entity="crm__opportunities",
        ),
    ),
    FaultCase(
        "close_date_year_in_the_past",
        "a deal won in March by an active AE, with close date 2023-03-20 (a mistyped year, before the pay calendar)",
        "blocked: `won_credits_reach_the_ledger` names the credit and says the close date is outside the pay calendar",
        "publish",
        _land_opportunity(close_date="2023-03-20"),
        Expected(
            "blocked",
            "won_credits_reach_the_ledger",
            "won_credits_reach_the_ledger: FAILED (3 offending) - rule: every credit of a closed-won deal closing "
            "in, or first known in, the months being published reaches the ledger or is explained by a plan rule "
            "(int_credit_outcomes); none vanishes unseen; sample keys: credit OPP-FAULT-1:owner of employee "
            "E000005 (opportunity OPP-FAULT-1, closed 2023-03-20): the close date lies outside the pay calendar "
            "(the months the quota sheet covers), credit OPP-FAULT-1:owner:team:E000001 of employee E000001 "
            "(opportunity OPP-FAULT-1, closed 2023-03-20): the close date lies outside the pay calendar (the "
            "months the quota sheet covers), credit OPP-FAULT-1:owner:team:E000002 of employee E000002 "
            "(opportunity OPP-FAULT-1, closed 2023-03-20): the close date lies outside the pay calendar (the "
            "months the quota sheet covers)",
        ),
    ),
    FaultCase(
        "close_date_before_the_reps_hire",
        "a deal won in March with close date 2015-03-20, before its owner was hired",
        "blocked: `credited_deals_map_to_active_employee` names the deal and the user (it vanished silently before)",
        "publish",
        _land_opportunity(close_date="2015-03-20"),
        Expected(
            "blocked",
            "credited_deals_map_to_active_employee",
            "credited_deals_map_to_active_employee: FAILED (1 offending) - rule: every credited closed-won deal "
            "closing in, or first known in, the months being published maps to an employee active on the close "
            "date; sample keys: opportunity OPP-FAULT-1 credit OPP-FAULT-1:owner user U000005 closed 2015-03-20",
        ),
    ),
    # --- issue 15: every reference between sources is checked
    FaultCase(
        "split_of_a_missing_opportunity",
        "a revenue split for opportunity `OPP-GHOST`, which the CRM extract never delivered",
        "blocked: `source_references_resolve` names the split and the missing opportunity",
        "publish",
        _split_of_missing_opportunity,
        Expected(
            "blocked",
            "source_references_resolve",
            "source_references_resolve: FAILED (1 offending) - rule: every reference between sources (a split's "
            "opportunity, a deal's owner and account, a worker's manager, an invoice's subscription, ...) names a "
            "record that was delivered; sample keys: crm__opportunity_splits split_id=S-FAULT-1: "
            "opportunity_id=OPP-GHOST not found in crm__opportunities",
        ),
    ),
    # defect 3: large amounts
    FaultCase(
        "amount_beyond_the_money_bound",
        "an opportunity of 10,000,000,000,000.00 IDR: 14 integer digits, where the contract allows 13 (it crashed "
        "every build with a nameless DECIMAL(18) overflow, as did deals from 10,000,000,000.00)",
        "the row is quarantined (`max_value:amount`) with its key; every amount up to 9,999,999,999,999.99 is "
        "credited and paid to the cent (scenario s58)",
        "load",
        _land_opportunity(amount="10000000000000.00", currency="IDR"),
        Expected(
            "quarantined",
            "max_value:amount",
            "crm__opportunities opportunity_id=OPP-FAULT-1: max_value:amount (absolute value above the contract "
            "bound of 9999999999999.99) in crm/opportunities/opportunities_2025-03-31-delivery.csv row 1",
            entity="crm__opportunities",
        ),
    ),

    # --- bad input per source contract: what real exports send (issue 15's widening)
    FaultCase(
        "user_flag_as_a_word",
        "a CRM users extract with `is_active` = `enabled` (a boolean the contract cannot read)",
        "the row is quarantined (`type:is_active:boolean`); `true`/`false`, `yes`/`no`, `1`/`0`, `t`/`f` are read",
        "load",
        _new_version("crm__users", "user_id = 'U000005'", is_active="enabled"),
        Expected(
            "quarantined",
            "type:is_active:boolean",
            "crm__users user_id=U000005: type:is_active:boolean (value is not a valid boolean) in "
            "crm/users/users_2025-03-31-delivery.csv row 1",
            entity="crm__users",
        ),
    ),
    FaultCase(
        "account_segment_in_lower_case",
        "a CRM account with segment `smb` instead of `SMB`",
        "the row is quarantined (`allowed_values:segment`): vocabularies are case-sensitive, no guessing",
        "load",
        _new_version("crm__accounts", "segment = 'SMB'", segment="smb"),
        Expected(
            "quarantined",
            "allowed_values:segment",
            "crm__accounts account_id=ACC0000107: allowed_values:segment (value is not one of: SMB, MidMarket, "
            "Enterprise) in crm/accounts/accounts_2025-03-31-delivery.csv row 1",
            entity="crm__accounts",
        ),
    ),
    FaultCase(
        "split_percent_with_a_percent_sign",
        "an opportunity split of `60%` (with the sign, as a spreadsheet shows it)",
        "the row is quarantined (`type:split_percent`); the split in force stays until a clean version arrives",
        "load",
        _new_version("crm__opportunity_splits", "split_type = 'revenue'", split_percent="60%"),
        Expected(
            "quarantined",
            "type:split_percent:decimal(9,4)",
            "crm__opportunity_splits split_id=S0000082: type:split_percent:decimal(9,4) (value is not a valid "
            "decimal(9,4)) in crm/opportunity_splits/opportunity_splits_2025-03-31-delivery.csv row 1",
            entity="crm__opportunity_splits",
        ),
    ),
    FaultCase(
        "amount_in_scientific_notation",
        "an opportunity amount of `1.23457E+11`, as a spreadsheet writes a number it has rounded to 6 digits",
        "the row is quarantined (`plain_number:amount`): read as written it would be a silently wrong amount",
        "load",
        _land_opportunity(amount="1.23457E+11"),
        Expected(
            "quarantined",
            "plain_number:amount",
            "crm__opportunities opportunity_id=OPP-FAULT-1: plain_number:amount (written in scientific notation, "
            "as a spreadsheet writes a number it has rounded; send it in full) in "
            "crm/opportunities/opportunities_2025-03-31-delivery.csv row 1",
            entity="crm__opportunities",
        ),
    ),
    FaultCase(
        "hr_date_in_us_format",
        "an HR row effective `03/15/2025` (month/day/year)",
        "the row is quarantined (`type:effective_from:date`): dates are ISO 8601, a day-month order is not guessed",
        "load",
        _new_version("hr__workers", "employee_id = 'E000005'", effective_from="03/15/2025"),
        Expected(
            "quarantined",
            "type:effective_from:date",
            "hr__workers employee_id=E000005, effective_from=03/15/2025: type:effective_from:date (value is not a "
            "valid date) in hr/workers/workers_2025-03-31-delivery.csv row 1",
            entity="hr__workers",
        ),
    ),
    FaultCase(
        "hr_effective_range_inverted",
        "an HR row effective from 2025-03-15 to 2025-03-01",
        "the row is quarantined (`date_order:effective_from<=effective_to`): an inverted range means nothing",
        "load",
        _new_version(
            "hr__workers", "employee_id = 'E000005'", effective_from="2025-03-15", effective_to="2025-03-01"
        ),
        Expected(
            "quarantined",
            "date_order:effective_from<=effective_to",
            "hr__workers employee_id=E000005, effective_from=2025-03-15: date_order:effective_from<=effective_to "
            "(effective_to is before effective_from) in hr/workers/workers_2025-03-31-delivery.csv row 1",
            entity="hr__workers",
        ),
    ),
    FaultCase(
        "termination_before_hire",
        "an HR row terminating E000005 on 2017-01-31, before the hire date (2018-12-15)",
        "the row is quarantined (`date_order:hire_date<=termination_date`)",
        "load",
        _new_version("hr__workers", "employee_id = 'E000005'", termination_date="2017-01-31"),
        Expected(
            "quarantined",
            "date_order:hire_date<=termination_date",
            "hr__workers employee_id=E000005, effective_from=2018-12-15: date_order:hire_date<=termination_date "
            "(termination_date is before hire_date) in hr/workers/workers_2025-03-31-delivery.csv row 1",
            entity="hr__workers",
        ),
    ),
    FaultCase(
        "leave_ending_before_it_starts",
        "a leave from 2025-03-20 to 2025-03-10",
        "the row is quarantined (`date_order:start_date<=end_date`); quota proration keeps the leave in force",
        "load",
        _new_version("hr__leaves", "true", start_date="2025-03-20", end_date="2025-03-10"),
        Expected(
            "quarantined",
            "date_order:start_date<=end_date",
            "hr__leaves leave_id=L000001: date_order:start_date<=end_date (end_date is before start_date) in "
            "hr/leaves/leaves_2025-03-31-delivery.csv row 1",
            entity="hr__leaves",
        ),
    ),
    FaultCase(
        "customer_created_at_as_epoch_seconds",
        "a billing customer whose `created_at` is the JSON number 1741392000 (seconds since 1970)",
        "the row is quarantined (`type:created_at:timestamp`): a timestamp is ISO 8601 text",
        "load",
        _new_version("billing__customers", "true", created_at=1741392000),
        Expected(
            "quarantined",
            "type:created_at:timestamp",
            "billing__customers customer_id=cus_0000029: type:created_at:timestamp (value is not a valid "
            "timestamp) in billing/customers/customers_2025-03-31-delivery.jsonl row 1",
            entity="billing__customers",
        ),
    ),
    FaultCase(
        "subscription_status_capitalised",
        "a billing subscription with status `Active`",
        "the row is quarantined (`allowed_values:status`): Stripe-like statuses are lower case",
        "load",
        _new_version("billing__subscriptions", "status = 'active'", status="Active"),
        Expected(
            "quarantined",
            "allowed_values:status",
            "billing__subscriptions subscription_id=sub_0000027: allowed_values:status (value is not one of: "
            "active, canceled, past_due, trialing) in "
            "billing/subscriptions/subscriptions_2025-03-31-delivery.jsonl row 1",
            entity="billing__subscriptions",
        ),
    ),
    FaultCase(
        "subscription_ending_before_it_starts",
        "a billing subscription canceled with an end date (2000-01-01) before its start date",
        "the row is quarantined (`date_order:start_date<=end_date`); ARR keeps the version in force",
        "load",
        _new_version("billing__subscriptions", "status = 'active'", status="canceled", end_date="2000-01-01"),
        Expected(
            "quarantined",
            "date_order:start_date<=end_date",
            "billing__subscriptions subscription_id=sub_0000027: date_order:start_date<=end_date (end_date is "
            "before start_date) in billing/subscriptions/subscriptions_2025-03-31-delivery.jsonl row 1",
            entity="billing__subscriptions",
        ),
    ),
    FaultCase(
        "invoice_amount_with_thousands_separator",
        "a billing invoice whose amount is the string `\"1,234.50\"`",
        "the row is quarantined (`type:amount`)",
        "load",
        _new_version("billing__invoices", "status = 'paid'", amount="1,234.50"),
        Expected(
            "quarantined",
            "type:amount:decimal(18,2)",
            "billing__invoices invoice_id=in_00000047: type:amount:decimal(18,2) (value is not a valid "
            "decimal(18,2)) in billing/invoices/invoices_2025-03-31-delivery.jsonl row 1",
            entity="billing__invoices",
        ),
    ),
    FaultCase(
        "quota_with_a_decimal_comma",
        "a quota of `50.000,00` (German number format)",
        "the row is quarantined (`type:quota_amount`): the contract reads `50000.00`, a locale is not guessed",
        "load",
        _new_version("salesops__quotas", "employee_id = 'E000005'", quota_amount="50.000,00"),
        Expected(
            "quarantined",
            "type:quota_amount:decimal(18,2)",
            "salesops__quotas employee_id=E000005, period_type=month, period_start=2025-03-01: "
            "type:quota_amount:decimal(18,2) (value is not a valid decimal(18,2)) in "
            "salesops/quotas/quotas_2025-03-31-delivery.csv row 1",
            entity="salesops__quotas",
        ),
    ),
    FaultCase(
        "csv_saved_with_bom_and_crlf",
        "the March quota sheet re-saved with a UTF-8 byte-order mark and Windows line ends, under a new name",
        "accepted: read as the same rows, every one a duplicate of a loaded version (nothing double-counted)",
        "load",
        _quota_file_as_a_spreadsheet_saves_it,
        Expected(
            "accepted",
            "duplicates_only",
            "salesops__quotas: loaded salesops/quotas/quotas_2025-03-31-delivery.csv (load_id fcea85d3b5e4ec16): "
            "read=2 loaded=0 (restated=0) duplicate=2 quarantined=0",
            entity="salesops__quotas",
        ),
    ),
    FaultCase(
        "csv_last_line_cut_short",
        "a quota file whose last line stops in the middle (a truncated transfer)",
        "the file is refused (`malformed_csv`), naming file and line; none of its rows loads",
        "load",
        _quota_file_cut_short,
        Expected(
            "raises",
            "malformed_csv",
            "salesops.quotas: file 'salesops/quotas/quotas_2025-03-31-delivery.csv' line 3: rule malformed_csv: "
            "Expected Number of Columns: 6 Found: 5",
        ),
    ),
    FaultCase(
        "hr_row_corrected_with_a_later_stamp",
        "HR re-sends E000005's current row with another target incentive and a later `last_modified`",
        "accepted: loaded as the record's newest version, which staging reads; history keeps the old one",
        "load",
        _new_version("hr__workers", "employee_id = 'E000005'", target_incentive_annual="91000.00"),
        Expected(
            "accepted",
            "loaded",
            "hr__workers: loaded hr/workers/workers_2025-03-31-delivery.csv (load_id 78b786c5cce8dc55): read=1 "
            "loaded=1 (restated=0) duplicate=0 quarantined=0",
            entity="hr__workers",
        ),
    ),
)

CASES_BY_NAME = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "fault class names must be unique"
