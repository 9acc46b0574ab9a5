"""Calendar helpers shared by every subsystem.

Kept dependency-free (no dateutil) and explicit about month arithmetic, because billing periods, quota
months and monthly extract files all hinge on the same definition of "one month later".
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's length (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_key(day: date | datetime) -> str:
    """`YYYY-MM`, the suffix of monthly extract files."""
    return f"{day.year:04d}-{day.month:02d}"


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second))


def days_between(first: date, last: date) -> int:
    """Number of days in the inclusive range [first, last] (0 when empty)."""
    return max(0, (last - first).days + 1)


def day_at(first: date, offset: int) -> date:
    return first + timedelta(days=offset)
