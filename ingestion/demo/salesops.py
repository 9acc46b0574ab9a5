"""Sales-ops quota sheet: one monthly quota per worker per month they are employed (any day of it).

Amounts are the full, unprorated month in the worker's pay currency: the marts prorate for hire, termination
and unpaid leave, so the sheet deliberately does not. Individual quotas are stable per rep with a little
month-to-month noise (what a planning spreadsheet looks like); leadership quotas are derived bottom-up (90 %
of the direct AEs' quotas for a manager, 90 % of the managers' for a director), using the reporting line on
the worker's first employed day of the month. A few rows are corrected ten days after publication, which
arrives as a new version of the same (employee, period) record.

Leaders also get quarterly rows (managers) and annual rows (directors) for every quarter / year that starts
in the horizon: the average of their monthly amounts in that period times its length. The demo's FY2026
leadership plans measure attainment on those longer periods (plans/sales_manager.v2.yaml, sales_director.v2).
"""

from __future__ import annotations

from datetime import timedelta

from ingestion.demo.config import CompanyConfig
from ingestion.demo.domain import from_usd, round_to_hundreds, to_usd
from ingestion.demo.hr import Workforce
from ingestion.demo.seeding import rng_for
from ingestion.demo.timeline import add_months, at, month_end
from ingestion.demo.writers import ExtractWriter

LEADER_SHARE = 0.9
"""Managers carry 90 % of their team's quota (a common over-assignment buffer in reverse)."""
CORRECTION_RATE = 0.02
EMPTY_TEAM_USD = 3 * 60_000
"""Quota basis (USD-equivalent, before the 90 %) for a leader with no direct reports that month."""
LONG_PERIODS = {"SALES_MANAGER": ("quarter", 3), "SALES_DIRECTOR": ("year", 12)}
"""Leaders' longer quota periods: (period type, months)."""


def write_quotas(config: CompanyConfig, workforce: Workforce, writer: ExtractWriter) -> None:
    rng = rng_for(config.seed, "salesops.quotas")
    workers = workforce.workers
    leader_months: dict[int, list[tuple[object, float, str]]] = {}  # worker -> [(month, amount, currency)]
    for period_start in config.month_starts():
        period_end = month_end(period_start)
        updated = config.clamp_ts(at(period_start - timedelta(days=5), 8))
        usd: dict[int, float] = {}
        rows: list[tuple[int, str, str]] = []  # (worker, role, currency), in employee order
        for w in workers:
            if not w.employed_between(period_start, period_end):
                continue
            row = w.row_on(max(period_start, w.hire_date))
            rows.append((w.index, row.role, row.currency))
        managers_of = {i: workers[i].row_on(max(period_start, workers[i].hire_date)).manager for i, _, _ in rows}
        team: dict[int, float] = {}
        for role_pass in (("AE", "SE"), ("SALES_MANAGER",), ("SALES_DIRECTOR",)):
            for i, role, currency in rows:
                if role not in role_pass:
                    continue
                if role in ("AE", "SE"):
                    base = workers[i].quota_base_usd[role]
                    amount = round_to_hundreds(from_usd(base * (1 + rng.uniform(-0.04, 0.04)), currency))
                else:
                    basis = team.get(i, EMPTY_TEAM_USD)
                    amount = round_to_hundreds(from_usd(LEADER_SHARE * basis, currency))
                usd[i] = to_usd(float(amount), currency)
                boss = managers_of[i]
                if boss is not None and role != "SE":  # SEs are overlay: not part of the team number
                    team[boss] = team.get(boss, 0.0) + usd[i]
                _write(writer, workers[i].employee_id, period_start, amount, currency, updated)
                if role in LONG_PERIODS:
                    leader_months.setdefault(i, []).append((period_start, float(amount), currency))
                if rng.random() < CORRECTION_RATE:
                    corrected_at = updated + timedelta(days=10)
                    if corrected_at <= config.horizon_end_ts:
                        new_amount = round_to_hundreds(float(amount) * rng.uniform(0.85, 1.15))
                        if new_amount == amount:
                            new_amount += 100
                        _write(writer, workers[i].employee_id, period_start, new_amount, currency, corrected_at)

    _write_long_periods(config, workforce, writer, leader_months)


def _write_long_periods(
    config: CompanyConfig,
    workforce: Workforce,
    writer: ExtractWriter,
    leader_months: dict[int, list[tuple[object, float, str]]],
) -> None:
    """Quarter rows for managers and year rows for directors, for periods starting inside the horizon."""
    for i, months in sorted(leader_months.items()):
        role = workforce.workers[i].row_on(months[-1][0]).role
        if role not in LONG_PERIODS:
            continue
        period_type, length = LONG_PERIODS[role]
        by_period: dict[object, list[tuple[float, str]]] = {}
        for month, amount, currency in months:
            offset = (month.month - 1) % length
            by_period.setdefault(add_months(month, -offset), []).append((amount, currency))
        for period_start, amounts in sorted(by_period.items()):
            if not config.contains(period_start):
                continue
            average = sum(a for a, _ in amounts) / len(amounts)
            updated = config.clamp_ts(at(period_start - timedelta(days=5), 8))
            amount = round_to_hundreds(average * length)
            _write(writer, workforce.workers[i].employee_id, period_start, amount, amounts[-1][1], updated, period_type)


def _write(
    writer: ExtractWriter, employee_id: str, period_start, amount, currency: str, updated, period_type: str = "month"
) -> None:
    writer.add(
        "salesops__quotas",
        updated,
        (employee_id, period_type, period_start, amount, currency, updated),
    )
