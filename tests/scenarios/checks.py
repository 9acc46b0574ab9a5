"""The assertions of a scenario against a built warehouse, shared by the library and the plan-file examples.

Each check collects every mismatch before failing, so one run shows the whole diff of a scenario (expected vs
engine, with the hand computation next to it) instead of stopping at the first number.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from .harness import Warehouse
from .ledger import LedgerReader, Line, money
from .schema import ExpectedLine, Scenario

ZERO = Decimal("0.00")


def _month(d: date) -> str:
    return d.strftime("%Y-%m")


def _line_matches(line: Line, expected: ExpectedLine, scenario: Scenario) -> bool:
    return (
        line.payout_month == expected.month
        and line.entry_type == expected.entry_type
        and line.rule_type == expected.rule_type
        and (expected.opportunity is None or line.opportunity_id == scenario.gid(expected.opportunity))
        and (expected.tier_number is None or line.tier_number == expected.tier_number)
        and (expected.bonus_id is None or line.bonus_id == expected.bonus_id)
    )


def _describe(lines: list[Line]) -> str:
    if not lines:
        return "      (no lines)"
    return "\n".join(
        f"      {_month(x.payout_month)} {x.entry_type:<13} {x.rule_type or '-':<13} opp={x.opportunity_id} "
        f"tier={x.tier_number} bonus={x.bonus_id} fx={x.fx_rate} credit={x.credit_amount} amount={money(x.amount)}"
        for x in sorted(lines, key=lambda x: (x.payout_month, x.entry_type, x.opportunity_id or "", x.tier_number or 0))
    )


def check_scenario(scenario: Scenario, ledger: LedgerReader) -> list[str]:
    """All mismatches between the scenario's expected block and the warehouse, as readable sentences."""
    problems: list[str] = []
    payout_type = ledger.schema.payout_entry_type
    listed = {(p.employee, p.month) for p in scenario.expected.payouts}

    # (a) net payout and the ledger sum per entry type, per listed payee-month
    for p in scenario.expected.payouts:
        employee = scenario.gid(p.employee)
        where = f"{p.employee} {_month(p.month)}"
        why = f"  [hand: {p.why}]" if p.why else ""
        net = ledger.net_payout(employee, p.month)
        if net is None:
            problems.append(f"{where}: no row in {ledger.schema.payouts_table}{why}")
        elif money(net) != p.net:
            problems.append(f"{where}: net_payout_amount {money(net)}, expected {p.net}{why}")
        sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in ledger.lines(employee):
            if line.payout_month == p.month:
                sums[line.entry_type] += money(line.amount)
        for entry_type in sorted(set(sums) | set(p.by_type)):
            if entry_type == payout_type:
                continue
            actual, wanted = sums.get(entry_type, ZERO), money(p.by_type.get(entry_type, ZERO))
            if actual != wanted:
                problems.append(f"{where}: sum of {entry_type} lines {actual}, expected {wanted}{why}")
        breakdown = ledger.payout_breakdown(employee, p.month)
        by_type: dict[str, Decimal] = dict(p.by_type)
        for column, entry_types in ledger.schema.payout_breakdown.items():
            wanted = sum((money(by_type.get(t, ZERO)) for t in entry_types), ZERO)
            if breakdown and money(breakdown[column]) != wanted:
                problems.append(
                    f"{where}: {ledger.schema.payouts_table}.{column} {money(breakdown[column])}, expected {wanted} "
                    f"(= {' + '.join(entry_types)})"
                )
        if sums.get(payout_type, ZERO) != -p.net:
            problems.append(f"{where}: {payout_type} line {sums.get(payout_type, ZERO)}, expected {-p.net}")

    # (b) individual lines
    for e in scenario.expected.lines:
        employee_lines = ledger.lines(scenario.gid(e.employee))
        matched = [x for x in employee_lines if _line_matches(x, e, scenario)]
        actual = sum((money(x.amount) for x in matched), ZERO)
        key = (
            f"{e.employee} {_month(e.month)} {e.entry_type}/{e.rule_type}"
            + (f" opp={e.opportunity}" if e.opportunity else "")
            + (f" tier={e.tier_number}" if e.tier_number is not None else "")
            + (f" bonus={e.bonus_id}" if e.bonus_id else "")
        )
        why = f"  [hand: {e.why}]" if e.why else ""
        if actual != e.amount:
            same_month = [x for x in employee_lines if x.payout_month == e.month and not ledger.is_payout_line(x)]
            problems.append(
                f"{key}: lines sum to {actual}, expected {e.amount}{why}\n    lines that month:\n"
                f"{_describe(same_month)}"
            )
        if e.exists and not matched:
            problems.append(f"{key}: no such line; expected one (amount {e.amount}) that explains the month{why}")
        if e.fx_rate is not None and any(x.fx_rate is None or Decimal(x.fx_rate) != e.fx_rate for x in matched):
            problems.append(f"{key}: fx_rate {sorted({x.fx_rate for x in matched}, key=str)}, expected {e.fx_rate}")
        if e.credit_amount is not None and any(money(x.credit_amount) != e.credit_amount for x in matched):
            problems.append(
                f"{key}: credit_amount {sorted({x.credit_amount for x in matched}, key=str)}, "
                f"expected {e.credit_amount}"
            )

    # (c) nothing happens in an unlisted payee-month, so all lines add up to the listed nets
    total = ZERO
    for employee in scenario.employees:
        for line in ledger.lines(scenario.gid(employee.id)):
            if ledger.is_payout_line(line):
                continue
            total += money(line.amount)
            if money(line.amount) != 0 and (employee.id, line.payout_month) not in listed:
                problems.append(
                    f"{employee.id} {_month(line.payout_month)}: unexpected {line.entry_type} line "
                    f"{money(line.amount)} (opp={line.opportunity_id}, tier={line.tier_number}) in a month the "
                    "scenario does not list"
                )
    listed_total = sum((p.net for p in scenario.expected.payouts), ZERO)
    if total != listed_total:
        problems.append(
            f"all of the scenario's ledger lines (payout lines excluded) sum to {total}, "
            f"the listed net payouts to {listed_total}"
        )
    return problems


def reconciliation_problems(ledger: LedgerReader) -> list[str]:
    """Company-wide: per payee-month, the non-payout lines sum to the net payout and the payout line is minus
    it; no ledger line lives outside a payout row."""
    sums: dict[tuple[str, date], Decimal] = defaultdict(lambda: ZERO)
    payout_lines: dict[tuple[str, date], Decimal] = defaultdict(lambda: ZERO)
    for line in ledger.all_lines():
        key = (line.employee_id, line.payout_month)
        if ledger.is_payout_line(line):
            payout_lines[key] += money(line.amount)
        else:
            sums[key] += money(line.amount)
    problems = []
    payouts = ledger.payout_keys()
    for key in sorted(set(sums) | set(payout_lines)):
        if key not in payouts:
            problems.append(f"{key[0]} {_month(key[1])}: ledger lines but no payout row")
    for employee, month in sorted(payouts):
        net = money(ledger.net_payout(employee, month))
        if sums[(employee, month)] != net:
            problems.append(f"{employee} {_month(month)}: lines sum to {sums[(employee, month)]}, net payout {net}")
        if payout_lines[(employee, month)] != -net:
            problems.append(f"{employee} {_month(month)}: payout line {payout_lines[(employee, month)]}, net {net}")
    return problems


def dbt_build_problem(warehouse: Warehouse) -> str | None:
    """dbt's own tests on a scenario company: a failure names the model or test, which often explains a scenario
    failure better than the numbers do."""
    if warehouse.dbt_returncode == 0:
        return None
    failures = "\n".join(f"  {f.status}: {f.unique_id}: {f.message}" for f in warehouse.dbt_failures)
    return f"dbt build exited {warehouse.dbt_returncode}\n{failures}\n{warehouse.dbt_log_tail}"
