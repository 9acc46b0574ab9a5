"""The one place that knows which warehouse tables and columns the scenario assertions read.

Two engines exist while the compensation engine is being rewritten:

* ``ledger`` - the append-only ledger ``marts.fct_commission_ledger`` with an ``entry_type`` per line and a
  closing ``payout`` line per payee-month (docs/compensation-engine.md);
* ``legacy`` - the first slice's ``marts.fct_commission_lines`` (``commission_amount``, ``rule_type`` tier /
  bonus / payout_cap, no payout line), where a tier line is what the ledger calls an ``earning``.

The schema is picked automatically (the ledger when its table exists) or forced with
``SPM_SCENARIO_SCHEMA=ledger|legacy``. Every query below is written against the logical names, so switching a
table or column name is a one-line change here.
"""

from __future__ import annotations

import os
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
    payout_entry_type: str | None
    """Entry type of the closing line that is minus the net payout; None when the engine has no such line."""


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
)

LEGACY = LedgerSchema(
    name="legacy",
    ledger_table="marts.fct_commission_lines",
    payouts_table="marts.fct_monthly_payouts",
    amount="commission_amount",
    entry_type="case rule_type when 'tier' then 'earning' else rule_type end",
    rule_type="rule_type",
    opportunity_id="opportunity_id",
    tier_number="tier_number",
    bonus_id="bonus_id",
    fx_rate="fx_rate",
    credit_amount="credit_amount",
    net_payout="net_payout_amount",
    payout_entry_type=None,
)

SCHEMAS = {s.name: s for s in (LEDGER, LEGACY)}


def pick_schema(warehouse: Warehouse) -> LedgerSchema:
    forced = os.environ.get("SPM_SCENARIO_SCHEMA")
    if forced:
        return SCHEMAS[forced]
    return LEDGER if warehouse.has_table(LEDGER.ledger_table) else LEGACY


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
        self._payouts = {
            (employee, month): net
            for employee, month, net in warehouse.query(
                f"""select employee_id, cast(payout_month as date), cast({s.net_payout} as decimal(18, 2))
                    from {s.payouts_table}"""
            )
        }
        self._by_employee: dict[str, list[Line]] = defaultdict(list)
        for line in self._lines:
            self._by_employee[line.employee_id].append(line)

    def lines(self, employee_id: str) -> list[Line]:
        return self._by_employee.get(employee_id, [])

    def net_payout(self, employee_id: str, month: date) -> Decimal | None:
        return self._payouts.get((employee_id, month))

    def payout_keys(self) -> set[tuple[str, date]]:
        return set(self._payouts)

    def all_lines(self) -> list[Line]:
        return self._lines

    def is_payout_line(self, line: Line) -> bool:
        return self.schema.payout_entry_type is not None and line.entry_type == self.schema.payout_entry_type


def money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))
