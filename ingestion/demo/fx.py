"""Daily FX rates to the reporting currency (USD).

A mean-reverting random walk around the nominal rates: realistic enough that converting a deal on its close
date gives a slightly different number than converting it a month later (which is what the marts must get
right), yet bounded so amounts stay believable over a long horizon. Markets are closed at weekends, so
Saturday and Sunday repeat Friday's fixing, as most rate feeds do. Every calendar day has a row for every
currency (USD included at exactly 1), from one month before the horizon to its last day.
"""

from __future__ import annotations

import math
from datetime import timedelta

from ingestion.contracts import REPORTING_CURRENCY
from ingestion.demo.config import CompanyConfig
from ingestion.demo.domain import CURRENCIES, NOMINAL_USD_PER_UNIT, rate
from ingestion.demo.seeding import rng_for
from ingestion.demo.writers import ExtractWriter

DAILY_VOLATILITY = 0.004
MEAN_REVERSION = 0.02


def write_fx_rates(config: CompanyConfig, writer: ExtractWriter) -> None:
    rng = rng_for(config.seed, "fx")
    log_rate = {
        cur: math.log(NOMINAL_USD_PER_UNIT[cur]) + rng.gauss(0.0, 0.02)
        for cur in CURRENCIES
        if cur != REPORTING_CURRENCY
    }
    day = config.fx_start
    while day <= config.horizon_end:
        if day.weekday() < 5:  # a new fixing on business days only
            for cur in sorted(log_rate):
                centre = math.log(NOMINAL_USD_PER_UNIT[cur])
                log_rate[cur] += MEAN_REVERSION * (centre - log_rate[cur]) + rng.gauss(0.0, DAILY_VOLATILITY)
        for cur in CURRENCIES:
            value = 1.0 if cur == REPORTING_CURRENCY else math.exp(log_rate[cur])
            writer.add("fx__rates", day, (day, cur, rate(value)))
        day += timedelta(days=1)
