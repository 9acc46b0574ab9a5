"""The month-close schedule: which day closes which month, and what the daily tick asks for."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from orchestration.defs.operations import month_close_schedule, month_to_close, next_close_day

NO_HOLIDAYS: frozenset[date] = frozenset()


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # April 2025 starts on a Tuesday: business days 1, 2, 3 are Apr 1, 2, 3
        (date(2025, 4, 1), None),
        (date(2025, 4, 2), None),
        (date(2025, 4, 3), date(2025, 3, 1)),
        (date(2025, 4, 4), None),
        # March 2025 starts on a Saturday: the 1st business day is Monday the 3rd, the 3rd is Wednesday the 5th
        (date(2025, 3, 1), None),
        (date(2025, 3, 3), None),
        (date(2025, 3, 5), date(2025, 2, 1)),
        # February 2025 starts on a Saturday too: 3rd business day Wednesday Feb 5, closing January
        (date(2025, 2, 5), date(2025, 1, 1)),
        # January: closes December of the previous year
        (date(2025, 1, 3), date(2024, 12, 1)),
        # a weekend day is never a close day
        (date(2025, 4, 5), None),
        # a mid-month day is not due
        (date(2025, 4, 17), None),
    ],
)
def test_third_business_day_closes_the_previous_month(day: date, expected: date | None):
    assert month_to_close(day, 3, NO_HOLIDAYS) == expected


def test_holidays_push_the_close_day():
    # January 2025: Wed 1 is New Year's Day, so business days are Jan 2, 3, 6: the close moves to Monday the 6th
    holidays = frozenset({date(2025, 1, 1)})
    assert month_to_close(date(2025, 1, 3), 3, holidays) is None
    assert month_to_close(date(2025, 1, 6), 3, holidays) == date(2024, 12, 1)
    # a holiday is never a close day, even if it would be the count's day
    assert month_to_close(date(2025, 4, 3), 3, frozenset({date(2025, 4, 3)})) is None
    assert month_to_close(date(2025, 4, 4), 3, frozenset({date(2025, 4, 3)})) == date(2025, 3, 1)


def test_first_business_day_close():
    assert month_to_close(date(2025, 4, 1), 1, NO_HOLIDAYS) == date(2025, 3, 1)
    # June 2025 starts on a Sunday: the 1st business day is Monday June 2
    assert month_to_close(date(2025, 6, 1), 1, NO_HOLIDAYS) is None
    assert month_to_close(date(2025, 6, 2), 1, NO_HOLIDAYS) == date(2025, 5, 1)
    with pytest.raises(ValueError, match="close_business_day"):
        month_to_close(date(2025, 6, 2), 0, NO_HOLIDAYS)


def test_exactly_one_close_day_per_month():
    closes = [
        (day, month)
        for day in (date.fromordinal(o) for o in range(date(2025, 1, 1).toordinal(), date(2026, 1, 1).toordinal()))
        if (month := month_to_close(day, 3, NO_HOLIDAYS)) is not None
    ]
    assert [month for _, month in closes] == [date(2024, 12, 1)] + [date(2025, m, 1) for m in range(1, 12)]


def test_next_close_day():
    assert next_close_day(date(2025, 4, 3), 3, NO_HOLIDAYS) == date(2025, 5, 5)  # May 1 is a Thursday
    assert next_close_day(date(2025, 4, 2), 3, NO_HOLIDAYS) == date(2025, 4, 3)
    assert next_close_day(date(2025, 4, 2), 25, NO_HOLIDAYS) is None  # no month has 25 business days


def _tick(when: datetime):
    return month_close_schedule(dg.build_schedule_context(scheduled_execution_time=when))


def test_schedule_requests_the_previous_month_on_the_close_day(monkeypatch):
    monkeypatch.delenv("SPM_CLOSE_BUSINESS_DAY", raising=False)
    monkeypatch.delenv("SPM_CLOSE_HOLIDAYS", raising=False)
    monkeypatch.setenv("SPM_FIRST_MONTH", "2024-11-01")

    request = _tick(datetime(2025, 4, 3, 6, 0, tzinfo=UTC))

    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2025-03-01"
    assert request.run_key == "close-2025-03"
    assert request.tags["spm/close"] == "2025-03"


def test_schedule_skips_other_days_saying_when_the_close_is_due(monkeypatch):
    monkeypatch.delenv("SPM_CLOSE_BUSINESS_DAY", raising=False)
    monkeypatch.delenv("SPM_CLOSE_HOLIDAYS", raising=False)

    skip = _tick(datetime(2025, 4, 4, 6, 0, tzinfo=UTC))

    assert isinstance(skip, dg.SkipReason)
    assert "2025-05-05" in skip.skip_message
    assert "2025-04" in skip.skip_message


def test_schedule_reads_close_day_and_holidays_from_the_environment(monkeypatch):
    monkeypatch.setenv("SPM_FIRST_MONTH", "2024-11-01")
    monkeypatch.setenv("SPM_CLOSE_BUSINESS_DAY", "2")
    monkeypatch.setenv("SPM_CLOSE_HOLIDAYS", "2025-01-01, 2025-12-25")

    assert isinstance(_tick(datetime(2025, 1, 2, 6, 0, tzinfo=UTC)), dg.SkipReason)  # business day 1
    request = _tick(datetime(2025, 1, 3, 6, 0, tzinfo=UTC))
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2024-12-01"
    assert request.run_key == "close-2024-12"


def test_schedule_skips_a_month_before_the_first_month(monkeypatch):
    monkeypatch.setenv("SPM_FIRST_MONTH", "2025-04-01")
    monkeypatch.delenv("SPM_CLOSE_BUSINESS_DAY", raising=False)
    monkeypatch.delenv("SPM_CLOSE_HOLIDAYS", raising=False)

    assert isinstance(_tick(datetime(2025, 4, 3, 6, 0, tzinfo=UTC)), dg.SkipReason)
