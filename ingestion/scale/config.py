"""Size, calendar and derived shape of a scale company, computed once in Python (the SQL only reads constants).

Everything here is a pure function of the `ScaleConfig` fields, so two runs with equal arguments build the same
company. The org chart is solved so that the number of distinct workers (payees) equals `payees` exactly, and the
number of closed-won deals per month is solved from the requested number of credit lines per month with the
expected-lines-per-deal formula in `lines_per_won_deal` (checked against `int_payee_credits` by the benchmark).
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path

from ingestion.plans import load_plan_bundle

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PLANS_DIR = REPO_ROOT / "plans"

REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_SHARES = (0.42, 0.30, 0.16, 0.12)
CURRENCIES = ("AUD", "CAD", "EUR", "GBP", "USD")
NOMINAL_USD_PER_UNIT = {"USD": 1.0, "CAD": 0.73, "EUR": 1.08, "GBP": 1.27, "AUD": 0.66}

REPS_PER_MANAGER = 8
"""Team size: seats 0-5 are account executives, 6-7 sales engineers (a partial last team keeps its first seats)."""
AES_PER_TEAM = 6
MANAGERS_PER_DIRECTOR = 8
ANNUAL_REP_TURNOVER = 0.12
"""Rep seats that change hands (termination + same-day replacement hire) per year of horizon."""

# Deal mix (closed-won deals). Rates are per closed-won deal.
REVENUE_SPLIT_RATE = 0.05
"""Two-way revenue splits with another AE of the same team (60/40, 50/50 or 70/30)."""
OVERLAY_RATE = 0.30
"""An SE of the team gets an overlay split (100 % or 50 %): these deals are invoiced."""
AMOUNT_EDIT_RATE = 0.03
AMOUNT_EDIT_LAG = (3, 40)
REASSIGN_RATE = 0.01
REASSIGN_LAG = (2, 30)
UNWIN_RATE = 0.015
UNWIN_LAG = (5, 30)
LOST_PER_WON = 0.5
"""Closed-lost deals per closed-won deal (a win rate of 2/3 of closed deals: an expansion/renewal-heavy book)."""
NEW_LOGOS_PER_AE_MONTH = 1.5
"""New-logo deals per AE per month (capped at 20 % of deals): each creates a new account and billing customer."""
TARGET_ATTAINMENT = 0.85
"""Average AE attainment the deal amounts are scaled to (AE monthly quotas are 24-40k USD)."""
AE_QUOTA_USD = (24_000, 40_000)
SE_QUOTA_USD = (18_000, 30_000)
ACCOUNT_DEALS_PER_MONTH = 6
"""Closed-won deals an account gets per month on average: sets the size of each AE's book of accounts."""


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def crossing_probability(lag: tuple[int, int], month_days: int = 30) -> float:
    """P(an event `lag` days (uniform, inclusive) after a close on a uniform day lands in a later month)."""
    lo, hi = lag
    hits = sum(1 for d in range(month_days) for lag_days in range(lo, hi + 1) if d + lag_days >= month_days)
    return hits / (month_days * (hi - lo + 1))


@dataclass(frozen=True)
class ScaleConfig:
    payees: int
    credit_lines_per_month: int
    months: int
    seed: int = 42
    start_month: date = date(2025, 12, 1)
    lost_per_won: float = LOST_PER_WON
    creation_versions: bool = True
    """Also land each deal's creation version (stage Prospecting) in the month it was created."""
    plans_dir: Path = field(default=DEFAULT_PLANS_DIR, compare=False)

    def __post_init__(self) -> None:
        if self.payees < 12:
            raise ValueError(f"payees must be at least 12 (a director, a manager and a team), got {self.payees}")
        if self.credit_lines_per_month < 100:
            raise ValueError(f"credit_lines_per_month must be at least 100, got {self.credit_lines_per_month}")
        if not 1 <= self.months <= 60:
            raise ValueError(f"months must be 1..60, got {self.months}")
        if self.start_month.day != 1:
            raise ValueError(f"start_month must be a first of month, got {self.start_month}")
        if not 0 <= self.lost_per_won <= 10:
            raise ValueError(f"lost_per_won must be 0..10, got {self.lost_per_won}")
        if not 0 <= self.seed < 2**31:
            raise ValueError(f"seed must be 0..2^31-1, got {self.seed}")

    # ---- calendar -----------------------------------------------------------------------------------------

    def month_start(self, index: int) -> date:
        """First day of horizon month `index` (1-based; index K+1 is the open month after the horizon)."""
        return add_months(self.start_month, index - 1)

    def month_index(self, day: date) -> int:
        return (day.year - self.start_month.year) * 12 + day.month - self.start_month.month + 1

    @property
    def horizon_end(self) -> date:
        return month_end(self.month_start(self.months))

    @property
    def horizon_days(self) -> int:
        return (self.horizon_end - self.start_month).days + 1

    @property
    def start_ts(self) -> datetime:
        return datetime.combine(self.start_month, datetime.min.time())

    @property
    def fx_start(self) -> date:
        """FX starts a month before the horizon (as in the demo), so every close-date conversion finds a rate."""
        return add_months(self.start_month, -1)

    # ---- org chart ----------------------------------------------------------------------------------------

    @cached_property
    def org(self) -> OrgShape:
        return OrgShape.solve(self.payees, self.months)

    # ---- deal volume --------------------------------------------------------------------------------------

    @property
    def lines_per_won_deal(self) -> float:
        """Expected rows of int_payee_credits per closed-won deal, for the deal's close month.

        A deal credits its owner (or its two revenue-split reps), each credited rep's manager and director (the
        roll-up), plus the overlay SE: 3 + 3 x split rate + overlay rate lines per version. An amount edit or a
        reassignment known in a later month adds a second version of every line; a deal un-won within its
        close month never shows a won state at a month end, so it has no lines at all.
        """
        per_version = 3 + 3 * REVENUE_SPLIT_RATE + OVERLAY_RATE
        second_versions = AMOUNT_EDIT_RATE * crossing_probability(
            AMOUNT_EDIT_LAG
        ) + REASSIGN_RATE * crossing_probability(REASSIGN_LAG)
        lost_same_month = UNWIN_RATE * (1 - crossing_probability(UNWIN_LAG))
        return per_version * (1 + second_versions - lost_same_month)

    @property
    def won_deals_per_month(self) -> int:
        return max(10, round(self.credit_lines_per_month / self.lines_per_won_deal))

    @property
    def lost_deals_per_month(self) -> int:
        return round(self.won_deals_per_month * self.lost_per_won)

    @property
    def deals_per_month(self) -> int:
        return self.won_deals_per_month + self.lost_deals_per_month

    @property
    def won_deals_per_ae_month(self) -> float:
        return self.won_deals_per_month / self.org.ae_seats

    @property
    def new_logo_share(self) -> float:
        return min(0.2, NEW_LOGOS_PER_AE_MONTH / max(self.won_deals_per_ae_month * (1 + self.lost_per_won), 1e-9))

    @property
    def accounts_per_ae(self) -> int:
        return max(6, min(80, round(self.won_deals_per_ae_month / ACCOUNT_DEALS_PER_MONTH)))

    @property
    def mean_deal_usd(self) -> float:
        """Deal size that puts the average AE at TARGET_ATTAINMENT of a mean AE quota."""
        mean_quota = sum(AE_QUOTA_USD) / 2
        return TARGET_ATTAINMENT * mean_quota / self.won_deals_per_ae_month

    # ---- plans --------------------------------------------------------------------------------------------

    @cached_property
    def long_quota_periods(self) -> dict[str, list[tuple[str, date, date]]]:
        """Per job role, the quarter/year quota periods its plans measure within [start, end of open month].

        Read from the plans folder (assignments by job role -> plan versions -> quota_period), so the quota
        sheet always carries the periods the demo plans need. A period that began before the horizon is
        included too (its start then precedes the horizon).
        """
        bundle = load_plan_bundle(self.plans_dir)
        last_day = month_end(self.month_start(self.months + 1))
        periods: dict[str, list[tuple[str, date, date]]] = {}
        for assignment in bundle.assignments:
            role = assignment.match.job_role
            if role is None:
                continue
            for plan in bundle.plans:
                if plan.plan_id != assignment.plan_id or plan.quota_period == "month":
                    continue
                first = max(plan.effective_from, assignment.effective_from, self.start_month)
                last = min(plan.effective_to or date.max, assignment.effective_to or date.max, last_day)
                if first > last:
                    continue
                length = 3 if plan.quota_period == "quarter" else 12
                period = date(first.year, 1 if length == 12 else (first.month - 1) // 3 * 3 + 1, 1)
                while period <= last:
                    entry = (plan.quota_period, period, month_end(add_months(period, length - 1)))
                    if entry not in periods.setdefault(role, []):
                        periods[role].append(entry)
                    period = add_months(period, length)
        return {role: sorted(items, key=lambda e: (e[1], e[0])) for role, items in sorted(periods.items())}

    def describe(self) -> dict[str, object]:
        org = self.org
        return {
            "payees": self.payees,
            "credit_lines_per_month_target": self.credit_lines_per_month,
            "months": self.months,
            "start_month": self.start_month.isoformat(),
            "seed": self.seed,
            "directors": org.directors,
            "managers": org.managers,
            "rep_seats": org.rep_seats,
            "ae_seats": org.ae_seats,
            "se_seats": org.se_seats,
            "replacement_hires": org.replacements,
            "won_deals_per_month": self.won_deals_per_month,
            "lost_deals_per_month": self.lost_deals_per_month,
            "expected_lines_per_won_deal": round(self.lines_per_won_deal, 4),
            "accounts_per_ae": self.accounts_per_ae,
            "mean_deal_usd": round(self.mean_deal_usd, 2),
            "new_logo_share": round(self.new_logo_share, 5),
        }


@dataclass(frozen=True)
class OrgShape:
    directors: int
    managers: int
    rep_seats: int
    replacements: int

    @property
    def seats(self) -> int:
        return self.directors + self.managers + self.rep_seats

    @property
    def ae_seats(self) -> int:
        full, rest = divmod(self.rep_seats, REPS_PER_MANAGER)
        return full * AES_PER_TEAM + min(rest, AES_PER_TEAM)

    @property
    def se_seats(self) -> int:
        return self.rep_seats - self.ae_seats

    @classmethod
    def solve(cls, payees: int, months: int) -> OrgShape:
        """The largest org whose seats plus replacement hires is exactly `payees` workers."""
        turnover = ANNUAL_REP_TURNOVER * months / 12
        reps = payees
        while reps > 1:
            managers = math.ceil(reps / REPS_PER_MANAGER)
            directors = math.ceil(managers / MANAGERS_PER_DIRECTOR)
            replacements = min(round(turnover * reps), reps)
            if reps + managers + directors + replacements <= payees:
                return cls(directors, managers, reps, payees - reps - managers - directors)
            reps -= 1
        raise ValueError(f"payees={payees} is too small for an org chart")


def day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time())
    return start, start + timedelta(days=1)


def month_window(month_first: date) -> tuple[datetime, datetime]:
    return datetime.combine(month_first, datetime.min.time()), datetime.combine(
        add_months(month_first, 1), datetime.min.time()
    )
