"""The knobs of the demo company, validated up front.

Everything the generator produces is a pure function of this object: two runs with equal configs write
byte-identical files. Validation happens here, once, so a bad value fails with the field's name instead of
surfacing as an odd error deep inside the simulation.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ingestion.demo.timeline import add_months, month_end

MAX_PAYEES = 999_999
"""Employee ids are `E` + 6 digits; more payees would break their fixed width (and lexical sort order)."""


class CompanyConfig(BaseModel):
    """Size, horizon and randomness of the generated company."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(42, description="Root seed; every subsystem derives its own generator from it.")
    payees: int = Field(
        200,
        ge=5,
        le=MAX_PAYEES,
        description="Workers employed at some point in the horizon (all roles are payees).",
    )
    months: int = Field(24, ge=1, le=120, description="Length of the horizon in calendar months.")
    start_month: date = Field(date(2024, 11, 1), description="First day of the horizon's first month.")
    deals_per_payee_per_month: float = Field(
        2.5,
        gt=0,
        le=50,
        description="Mean opportunities an account executive creates per month of employment.",
    )

    @field_validator("start_month")
    @classmethod
    def _first_of_month(cls, value: date) -> date:
        if isinstance(value, datetime):  # a datetime is a date subclass; keep the type honest
            raise ValueError("start_month must be a date, not a datetime")
        if value.day != 1:
            raise ValueError(f"start_month must be the first day of a month, got {value.isoformat()}")
        if value.year < 1990:
            raise ValueError("start_month must not be before 1990 (pre-horizon hire dates go back 10 years)")
        return value

    # ---- derived horizon -------------------------------------------------------------------------------

    @property
    def horizon_start(self) -> date:
        return self.start_month

    @property
    def horizon_end(self) -> date:
        """Last calendar day of the last month (inclusive)."""
        return month_end(add_months(self.start_month, self.months - 1))

    @property
    def horizon_start_ts(self) -> datetime:
        return datetime.combine(self.horizon_start, time(0, 0, 0))

    @property
    def horizon_end_ts(self) -> datetime:
        """Latest timestamp any version may carry (last day, 23:59:59)."""
        return datetime.combine(self.horizon_end, time(23, 59, 59))

    @property
    def fx_start(self) -> date:
        """FX covers one lead-in month so close-date conversions at the horizon start never miss a rate."""
        return add_months(self.start_month, -1)

    def month_starts(self) -> list[date]:
        """First day of every month in the horizon, in order."""
        return [add_months(self.start_month, i) for i in range(self.months)]

    def horizon_days(self) -> int:
        return (self.horizon_end - self.horizon_start).days + 1

    def contains(self, day: date) -> bool:
        return self.horizon_start <= day <= self.horizon_end

    def clamp_ts(self, ts: datetime) -> datetime:
        """Pre-horizon history is delivered in the first extract: pull earlier timestamps to the start."""
        return max(ts, self.horizon_start_ts)

    def days(self) -> list[date]:
        return [self.horizon_start + timedelta(days=i) for i in range(self.horizon_days())]
