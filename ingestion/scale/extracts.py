"""Extract files for a time window: every entity's versions whose timestamp falls in [t0, t1), one file each.

A month's extracts are the window [first of month, first of next month); a day's extracts ("a day's new data"
for the nightly run) are [day, day + 1). The same SQL serves both, which is what keeps a landed day consistent
with the months before it.

Files are written by DuckDB's `COPY ... TO` in the contract's format, columns exactly the contract's and in its
order, rows sorted by the version key (so equal arguments give byte-identical files): CSV with a header,
`YYYY-MM-DDTHH:MM:SS` timestamps and empty nulls; JSONL one object per line; Parquet with the contract's types.
Each file is written under a hidden temporary name and renamed into place when complete (the loader skips
hidden files), and a window with no rows for an entity writes no file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from ingestion.contracts import CONTRACTS_BY_NAME, SourceContract
from ingestion.scale.company import (
    DEAL_MONTH_LOOKAHEAD,
    DEAL_MONTH_LOOKBACK,
    INVOICE_UNCOLLECTIBLE_RATE,
    INVOICE_VOID_RATE,
    Company,
    d,
    ts_at,
    user_id_sql,
)
from ingestion.scale.config import CURRENCIES, NOMINAL_USD_PER_UNIT, REVENUE_SPLIT_RATE, add_months

TS_FORMAT = "%Y-%m-%dT%H:%M:%S"


def ts(value: datetime) -> str:
    return f"timestamp '{value.isoformat(sep=' ')}'"


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    suffix: str
    """File name suffix: `YYYY-MM` for a month, `YYYY-MM-DD` for a day."""

    def contains(self, column: str) -> str:
        return f"({column} >= {ts(self.start)} and {column} < {ts(self.end)})"

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(seconds=1)).date()


class ExtractWriter:
    def __init__(self, company: Company, out: Path, conn=None) -> None:
        """`conn`: the connection (or a cursor of it, one per thread) the COPY statements run on."""
        self.company = company
        self.config = company.config
        self.conn = conn if conn is not None else company.conn
        self.out = Path(out)

    # ---- deal month ranges ---------------------------------------------------------------------------------

    def _months(self, window: Window, before: int, after: int) -> Iterator[int]:
        lo = self.config.month_index(window.start.date())
        hi = self.config.month_index(window.last_day)
        yield from range(max(1, lo - before), hi + after + 1)

    def _deals(self, window: Window, where, before: int = 0, after: int = 0, core_extra=None) -> Iterator[str]:
        """Deal queries of every deal month that can have rows in `window`; `where` and `core_extra` are SQL or
        functions of the deal month index."""
        for index in self._months(window, before, after):
            predicate = where(index) if callable(where) else where
            extra = core_extra(index) if callable(core_extra) else (core_extra or "")
            yield self.company.deals_sql(self.company.deal_month(index), predicate, extra)

    # ---- entities ------------------------------------------------------------------------------------------

    def opportunities(self, w: Window) -> tuple[str, list[str]]:
        cfg = self.config
        parts = []

        def version(sql: str, **values: object) -> str:
            return (
                "select opportunity_id, account_id, {owner} as owner_user_id, account_name || ' - ' || "
                "(case opportunity_type when 'new' then 'New Business' when 'expansion' then 'Expansion' "
                "else 'Renewal' end) as opportunity_name, opportunity_type, {stage} as stage, {amount} as amount, "
                "currency, created_date, close_date, {closed} as is_closed, {won} as is_won, contract_term_months, "
                "{lm} as last_modified, m, i, {seq} as seq from ({sql}) deals"
            ).format(sql=sql, **values)

        if cfg.creation_versions:
            created = f"{w.contains('created_ts')} and created_date >= {d(cfg.start_month)}"
            for sql in self._deals(w, created, after=DEAL_MONTH_LOOKAHEAD):
                parts.append(
                    version(
                        sql,
                        owner="creation_owner_user_id",
                        stage="'Prospecting'",
                        amount="amount",
                        closed="false",
                        won="false",
                        lm="created_ts",
                        seq=0,
                    )
                )
        for sql in self._deals(w, w.contains("close_ts")):
            parts.append(
                version(
                    sql,
                    owner="owner_user_id",
                    stage="case when is_won_type then 'Closed Won' else 'Closed Lost' end",
                    amount="amount",
                    closed="true",
                    won="is_won_type",
                    lm="close_ts",
                    seq=1,
                )
            )
        edited_amount = "greatest(1.00, round(amount * (1 + amount_edit_change), 2))::decimal(18,2)"
        for sql in self._deals(w, f"edit_kind is not null and {w.contains('edit_ts')}", before=2):
            parts.append(
                version(
                    sql,
                    owner="case edit_kind when 'reassign' then partner_user_id else owner_user_id end",
                    stage="case edit_kind when 'unwon' then 'Negotiation' else 'Closed Won' end",
                    amount=f"case edit_kind when 'amount' then {edited_amount} else amount end",
                    closed="edit_kind <> 'unwon'",
                    won="edit_kind <> 'unwon'",
                    lm="edit_ts",
                    seq=2,
                )
                # a reassignment needs another AE in the team, and deals split by revenue are never reassigned
                + " where edit_kind <> 'reassign' or (not has_revenue_split and partner_user_id is not null)"
            )
        return " union all ".join(parts), ["m", "i", "seq"]

    def opportunity_splits(self, w: Window) -> tuple[str, list[str]]:
        parts = []
        u = self.company.u
        for sql in self._deals(
            w,
            lambda index: (
                f"is_won_type and {w.contains('close_ts')} and "
                f"({u('split', index, 'i')} < {REVENUE_SPLIT_RATE} or has_overlay_draw)"
            ),
        ):
            # one scan per month: each deal yields its revenue rows (seq 0, 1) and its overlay row (seq 2)
            parts.append(
                f"""
                select 'SPL' || substr(opportunity_id, 4)
                           || (case seq when 0 then '-R1' when 1 then '-R2' else '-OV' end) as split_id,
                       opportunity_id,
                       case seq when 0 then owner_user_id when 1 then partner_user_id else se_user_id end as user_id,
                       case when seq < 2 then 'revenue' else 'overlay' end as split_type,
                       (case seq when 0 then owner_split_percent when 1 then 100 - owner_split_percent
                             else overlay_percent end)::decimal(9,4) as split_percent,
                       false as is_deleted, close_ts as last_modified, m, i, seq
                from ({sql}) deals, (values (0), (1), (2)) v(seq)
                where (seq < 2 and has_revenue_split) or (seq = 2 and has_overlay)
                """
            )
        return " union all ".join(parts), ["m", "i", "seq"]

    def invoices(self, w: Window) -> tuple[str, list[str]]:
        parts = []
        void, bad = INVOICE_VOID_RATE, INVOICE_VOID_RATE + INVOICE_UNCOLLECTIBLE_RATE
        u = self.company.u

        def timing(index: int) -> str:
            lag = u("invlag", index, "i")
            return f"""{ts_at("invoice_date", 18, 30)} as open_ts,
                case when invoice_draw < {void} then 'void' when invoice_draw < {bad} then 'uncollectible'
                     else 'paid' end as outcome,
                case when invoice_draw < {void} then {ts_at(f"invoice_date + (1 + floor({lag} * 10))::int", 10)}
                     when invoice_draw < {bad} then {ts_at(f"invoice_date + (60 + floor({lag} * 31))::int", 3)}
                     else {ts_at("invoice_date", 18, 30)}
                          + to_seconds((3600 + floor({lag} * {45 * 86400 - 3600}))::bigint)
                end as outcome_ts"""

        where = f"invoice_candidate and ({w.contains('open_ts')} or {w.contains('outcome_ts')})"
        for sql in self._deals(w, where, before=DEAL_MONTH_LOOKBACK, core_extra=timing):
            base = (
                "'in_' || substr(opportunity_id, 4) as invoice_id, "
                "coalesce(base_customer_id, 'cus_N' || substr(opportunity_id, 4)) as customer_id, "
                "null::varchar as subscription_id, opportunity_id as crm_opportunity_id, invoice_date, "
                "invoice_date + 30 as due_date, "
                "(case edit_kind when 'amount' then greatest(1.00, round(amount * (1 + amount_edit_change), 2)) "
                "else amount end)::decimal(18,2) as amount, currency"
            )
            parts.append(
                f"""
                select {base}, case seq when 0 then 'open' else outcome end as status,
                       case when seq = 1 and outcome = 'paid' then outcome_ts end as paid_at,
                       case seq when 0 then open_ts else outcome_ts end as last_modified, m, i, seq
                from ({sql}) deals, (values (0), (1)) v(seq)
                where has_invoice and case seq when 0 then {w.contains("open_ts")} else {w.contains("outcome_ts")} end
                """
            )
        return " union all ".join(parts), ["m", "i", "seq"]

    def accounts(self, w: Window) -> tuple[str, list[str]]:
        start_ts = ts(self.config.start_ts)
        created = f"greatest({ts_at('created_date', 9, 30)}, {start_ts})"
        return (
            f"""
            select account_id, account_name, segment, region, owner_user_id, created_date, last_modified
            from base_account_versions where {w.contains("last_modified")}
            union all
            select account_id, account_name, segment, region, creation_owner_user_id, created_date, {created}
            from new_logos where {w.contains(created)}
            union all
            select n.account_id, n.account_name, n.segment, n.region, {user_id_sql("h.succ_w")}, n.created_date,
                   {ts_at("h.turnover_day", 8)}
            from new_logos n join holders h using (seat_id)
            where h.turnover_day > n.created_date and {w.contains(ts_at("h.turnover_day", 8))}
            """,
            ["account_id", "last_modified"],
        )

    def customers(self, w: Window) -> tuple[str, list[str]]:
        start_ts = ts(self.config.start_ts)
        won = "is_won_type and coalesce(edit_kind, '') <> 'unwon'"
        return (
            f"""
            select customer_id, account_id as crm_account_id, account_name as customer_name, currency,
                   {ts_at("created_date", 18)} as created_at, {start_ts} as last_modified
            from accounts where {w.contains(start_ts)}
            union all
            select 'cus_N' || substr(opportunity_id, 4), account_id, account_name, currency,
                   close_ts + interval 1 hour, close_ts + interval 1 hour
            from new_logos where {won} and {w.contains("close_ts + interval 1 hour")}
            """,
            ["customer_id", "last_modified"],
        )

    def subscriptions(self, w: Window) -> tuple[str, list[str]]:
        won = "is_won_type and coalesce(edit_kind, '') <> 'unwon'"
        final_amount = (
            "(case edit_kind when 'amount' then greatest(1.00, round(amount * (1 + amount_edit_change), 2)) "
            "else amount end)"
        )
        return (
            f"""
            select subscription_id, customer_id, crm_opportunity_id, status, start_date, end_date, billing_interval,
                   recurring_amount, currency, last_modified
            from base_subscription_versions where {w.contains("last_modified")}
            union all
            select 'sub_N' || substr(opportunity_id, 4), 'cus_N' || substr(opportunity_id, 4), opportunity_id,
                   'active', close_date, null, 'month', round({final_amount} / contract_term_months, 2), currency,
                   close_ts + interval 65 minute
            from new_logos where {won} and {w.contains("close_ts + interval 65 minute")}
            """,
            ["subscription_id", "last_modified"],
        )

    def static(self, table: str, ts_column: str, key: list[str]):
        def query(w: Window) -> tuple[str, list[str]]:
            return f"select * from {table} where {w.contains(ts_column)}", key

        return query

    def fx_rates(self, w: Window) -> tuple[str, list[str]]:
        cfg = self.config
        first = max(w.start.date(), cfg.fx_start)
        days = (w.last_day - first).days + 1
        if days <= 0:
            return (
                "select null::date as rate_date, null::varchar as currency, null::double as rate_to_reporting "
                "where false",
                ["rate_date", "currency"],
            )
        currencies = ", ".join(f"('{c}', {n}, {i})" for i, (c, n) in enumerate(sorted(NOMINAL_USD_PER_UNIT.items())))
        u = self.company.u
        # Weekends repeat Friday's fixing; the walk is two slow waves plus daily noise around the nominal rate.
        fixing = "(day - (case dayofweek(day) when 6 then 1 when 0 then 2 else 0 end))"
        t = f"({fixing} - date '2000-01-01')"
        return (
            f"""
            select day as rate_date, c.code as currency,
                   case when c.code = 'USD' then 1.0 else round(c.nominal * exp(
                       0.04 * sin(2 * pi() * ({t} / 365.25 + {u("fxa", "c.idx")}))
                       + 0.015 * sin(2 * pi() * ({t} / 53.0 + {u("fxb", "c.idx")}))
                       + 0.004 * ({u("fxn", "c.idx", t)} - 0.5)), 8) end as rate_to_reporting
            from (select {d(first)} + k::int as day from range({days}) r(k)) days,
                 (values {currencies}) c(code, nominal, idx)
            """,
            ["rate_date", "currency"],
        )

    # ---- writing -------------------------------------------------------------------------------------------

    def entity_queries(self):
        return {
            "crm__users": self.static("user_versions", "last_modified", ["user_id", "last_modified"]),
            "crm__accounts": self.accounts,
            "crm__opportunities": self.opportunities,
            "crm__opportunity_splits": self.opportunity_splits,
            "hr__workers": self.static(
                "hr_versions", "last_modified", ["employee_id", "effective_from", "last_modified"]
            ),
            "hr__leaves": self.static("leave_versions", "last_modified", ["leave_id", "last_modified"]),
            "billing__customers": self.customers,
            "billing__subscriptions": self.subscriptions,
            "billing__invoices": self.invoices,
            "salesops__quotas": self.static(
                "quota_versions", "updated_at", ["employee_id", "period_type", "period_start", "updated_at"]
            ),
            "fx__rates": self.fx_rates,
        }

    def write_window(self, window: Window, entities: list[str] | None = None) -> dict[str, tuple[Path, int]]:
        """Write one file per entity with rows in `window`; returns {entity: (path, rows)} for files written."""
        written: dict[str, tuple[Path, int]] = {}
        for name, build in self.entity_queries().items():
            if entities is not None and name not in entities:
                continue
            sql, order = build(window)
            contract = CONTRACTS_BY_NAME[name]
            path = (
                self.out
                / contract.source
                / contract.entity
                / f"{contract.entity}_{window.suffix}.{contract.file_format}"
            )
            rows = self.copy(contract, sql, order, path)
            if rows:
                written[name] = (path, rows)
        return written

    def copy(self, contract: SourceContract, sql: str, order: list[str], path: Path) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        select = ", ".join(_formatted(contract, c.name, c.type) for c in contract.columns)
        options = {
            "csv": "(format csv, header true)",
            "jsonl": "(format json)",
            "parquet": "(format parquet, compression snappy)",
        }[contract.file_format]
        rows = self.conn.execute(
            f"copy (select {select} from ({sql}) as src order by {', '.join(order)}) to '{tmp}' {options}"
        ).fetchone()[0]
        if rows:
            os.replace(tmp, path)
        else:
            tmp.unlink(missing_ok=True)
        return int(rows)


def _formatted(contract: SourceContract, name: str, type_: str) -> str:
    if type_ == "timestamp":
        return f"strftime({name}, '{TS_FORMAT}') as {name}"
    if type_.startswith("decimal") or type_ in ("integer", "boolean", "date", "varchar"):
        cast = {"integer": "integer", "boolean": "boolean", "date": "date", "varchar": "varchar"}.get(type_, type_)
        return f"cast({name} as {cast}) as {name}"
    raise ValueError(f"{contract.name}.{name}: no format for type {type_}")


def month_window(first: date) -> Window:
    start = datetime.combine(first, datetime.min.time())
    return Window(start, datetime.combine(add_months(first, 1), datetime.min.time()), first.strftime("%Y-%m"))


def day_window(day: date) -> Window:
    start = datetime.combine(day, datetime.min.time())
    return Window(start, start + timedelta(days=1), day.isoformat())


__all__ = ["CURRENCIES", "ExtractWriter", "Window", "day_window", "month_window"]
