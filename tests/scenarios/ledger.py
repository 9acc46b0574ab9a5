"""The one place that knows which warehouse tables and columns the scenario assertions read.

The assertions are written against logical names (`amount`, `entry_type`, `net_payout`, ...); `LEDGER` maps
them to the append-only ledger `marts.fct_commission_ledger` (an `entry_type` per line and a closing `payout`
line per payee-month, docs/compensation-engine.md) and `marts.fct_monthly_payouts`. Renaming a table or column
is a one-line change here. (The harness was first proven against the previous engine's
`fct_commission_lines` with a second mapping - `commission_amount`, tier lines as `earning`, no payout line -
which was dropped when that table was replaced.)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .harness import Warehouse


@dataclass(frozen=True)
class LedgerSchema:
    name: str
    ledger_table: str
    payouts_table: str
    amount: str
    entry_type: str
    """SQL expression giving the ledger entry type of a line."""
    rule_type: str
    opportunity_id: str
    tier_number: str
    bonus_id: str
    fx_rate: str
    credit_amount: str
    net_payout: str
    payout_entry_type: str
    """Entry type of the closing line that is minus the net payout."""
    payout_breakdown: dict[str, tuple[str, ...]]
    """Payout-table column -> the ledger entry types it sums (checked against each scenario's `by_type`)."""


LEDGER = LedgerSchema(
    name="ledger",
    ledger_table="marts.fct_commission_ledger",
    payouts_table="marts.fct_monthly_payouts",
    amount="amount",
    entry_type="entry_type",
    rule_type="rule_type",
    opportunity_id="opportunity_id",
    tier_number="tier_number",
    bonus_id="bonus_id",
    fx_rate="fx_rate",
    credit_amount="credit_amount",
    net_payout="net_payout_amount",
    payout_entry_type="payout",
    payout_breakdown={
        "gross_commission_amount": ("earning", "true_up", "rate_cap"),
        "bonus_amount": ("bonus",),
        "adjustment_amount": ("adjustment",),
        "clawback_amount": ("clawback",),
        "cap_adjustment_amount": ("payout_cap",),
        "draw_amount": ("draw",),
        "draw_recovery_amount": ("draw_recovery",),
    },
)


@dataclass(frozen=True)
class Line:
    employee_id: str
    payout_month: date
    entry_type: str
    rule_type: str | None
    opportunity_id: str | None
    tier_number: int | None
    bonus_id: str | None
    fx_rate: Decimal | None
    credit_amount: Decimal | None
    amount: Decimal


class LedgerReader:
    """Reads ledger lines and payouts for a set of employees, once, into memory (the company is small)."""

    def __init__(self, warehouse: Warehouse, schema: LedgerSchema) -> None:
        self.warehouse = warehouse
        self.schema = schema
        s = schema
        self._lines = [
            Line(*row)
            for row in warehouse.query(
                f"""select employee_id, cast(payout_month as date), {s.entry_type}, {s.rule_type},
                       {s.opportunity_id}, {s.tier_number}, {s.bonus_id}, {s.fx_rate}, {s.credit_amount},
                       cast({s.amount} as decimal(18, 2))
                    from {s.ledger_table}"""
            )
        ]
        breakdown = list(s.payout_breakdown)
        rows = warehouse.query(
            f"""select employee_id, cast(payout_month as date), cast({s.net_payout} as decimal(18, 2))
                    {"".join(f", cast({c} as decimal(18, 2))" for c in breakdown)}
                from {s.payouts_table}"""
        )
        self._payouts = {(r[0], r[1]): r[2] for r in rows}
        self._breakdowns = {(r[0], r[1]): dict(zip(breakdown, r[3:], strict=True)) for r in rows}
        self._by_employee: dict[str, list[Line]] = defaultdict(list)
        for line in self._lines:
            self._by_employee[line.employee_id].append(line)

    def lines(self, employee_id: str) -> list[Line]:
        return self._by_employee.get(employee_id, [])

    def net_payout(self, employee_id: str, month: date) -> Decimal | None:
        return self._payouts.get((employee_id, month))

    def payout_breakdown(self, employee_id: str, month: date) -> dict[str, Decimal]:
        """The payout row's component columns (gross, bonus, adjustment, ...), empty when there is no row."""
        return self._breakdowns.get((employee_id, month), {})

    def payout_keys(self) -> set[tuple[str, date]]:
        return set(self._payouts)

    def all_lines(self) -> list[Line]:
        return self._lines

    def is_payout_line(self, line: Line) -> bool:
        return line.entry_type == self.schema.payout_entry_type


def money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))
