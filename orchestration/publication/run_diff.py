"""Any two runs of a month: which payees' payouts changed, by how much, and why.

The dbt mart `fct_payout_run_changes` compares every run of a month with the run before it. An engineer
investigating a change often needs two runs further apart (last night against the published close, say);
this compares any two from the run history `fct_payout_runs`, with the same reason vocabulary: the kinds of
input whose fingerprint differs (source_data, plan_version, hierarchy, quota, fx), `code` when the code version
differs, `unexplained` when nothing does, and `payee_added` / `payee_removed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import duckdb

RUN_HISTORY = "marts.fct_payout_runs"
# fingerprint column prefix -> reason word (the same words as fct_payout_run_changes.change_reasons)
INPUT_REASONS = (
    ("source_data", "source_data"),
    ("plan", "plan_version"),
    ("hierarchy", "hierarchy"),
    ("quota", "quota"),
    ("fx", "fx"),
)


@dataclass(frozen=True)
class MonthRun:
    run_id: str
    run_started_at: datetime
    code_version: str
    payees: int
    total_net_payout: Decimal


@dataclass(frozen=True)
class PayoutChange:
    employee_id: str
    currency_code: str
    base_net_payout_amount: Decimal | None
    net_payout_amount: Decimal | None
    net_payout_change: Decimal
    change_reasons: str


def runs_of_month(conn: duckdb.DuckDBPyConnection, month: date) -> list[MonthRun]:
    """Every run that built `month`, oldest first."""
    rows = conn.execute(
        f"""select run_id, min(run_started_at), min(code_version), count(*), sum(net_payout_amount)
            from {RUN_HISTORY} where payout_month = ? group by run_id order by 2, 1""",
        [month],
    ).fetchall()
    return [MonthRun(*row) for row in rows]


def diff_runs(conn: duckdb.DuckDBPyConnection, month: date, base_run_id: str, run_id: str) -> list[PayoutChange]:
    """Payees of `month` whose payout differs between `base_run_id` and `run_id`, largest change first."""
    known = {r.run_id: r for r in runs_of_month(conn, month)}
    for name in (base_run_id, run_id):
        if name not in known:
            raise ValueError(f"run {name!r} did not build {month:%Y-%m} (runs that did: {', '.join(known) or 'none'})")
    code_changed = known[base_run_id].code_version != known[run_id].code_version
    reasons = " || ".join(
        f"case when a.{column}_fingerprint <> b.{column}_fingerprint then ' {word}' else '' end"
        for column, word in INPUT_REASONS
    )
    rows = conn.execute(
        f"""with a as (select * from {RUN_HISTORY} where payout_month = ? and run_id = ?),
                 b as (select * from {RUN_HISTORY} where payout_month = ? and run_id = ?)
            select coalesce(b.employee_id, a.employee_id), coalesce(b.currency_code, a.currency_code),
                   a.net_payout_amount, b.net_payout_amount,
                   coalesce(b.net_payout_amount, 0) - coalesce(a.net_payout_amount, 0),
                   case when a.employee_id is null then 'payee_added'
                        when b.employee_id is null then 'payee_removed'
                        else coalesce(nullif(replace(trim({reasons} || ?), ' ', ', '), ''), 'unexplained') end
            from a full outer join b on a.employee_id = b.employee_id
            where a.employee_id is null or b.employee_id is null
               or a.net_payout_amount <> b.net_payout_amount or a.currency_code <> b.currency_code
            order by abs(coalesce(b.net_payout_amount, 0) - coalesce(a.net_payout_amount, 0)) desc, 1""",
        [month, base_run_id, month, run_id, " code" if code_changed else ""],
    ).fetchall()
    return [PayoutChange(*row) for row in rows]
