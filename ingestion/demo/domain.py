"""Shared vocabulary of the demo company: regions, currencies, roles and their nominal economics.

These constants are the "business assumptions" of the demo. They live in one place so a reviewer can read
the company's shape (who sells where, in which currency, for how much) without reading the simulation.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Literal

Region = Literal["NA", "EMEA", "APAC", "LATAM"]
Role = Literal["AE", "SE", "SALES_MANAGER", "SALES_DIRECTOR"]

REGIONS: tuple[Region, ...] = ("NA", "EMEA", "APAC", "LATAM")
REGION_WEIGHTS: tuple[float, ...] = (0.42, 0.30, 0.16, 0.12)

CURRENCIES: tuple[str, ...] = ("AUD", "CAD", "EUR", "GBP", "USD")
"""Every currency the company deals or pays in; FX rates are published for all of them, every day."""

NOMINAL_USD_PER_UNIT: dict[str, float] = {"USD": 1.0, "CAD": 0.73, "EUR": 1.08, "GBP": 1.27, "AUD": 0.66}
"""Centre of the FX random walk, also used to turn USD-equivalent ranges into local amounts."""

ROLE_SHARES: dict[Role, float] = {"SALES_DIRECTOR": 0.02, "SALES_MANAGER": 0.10, "SE": 0.18}
"""Share of payees per role; account executives (AE) are the remainder (~70 %)."""

TARGET_INCENTIVE_USD: dict[Role, tuple[int, int]] = {
    "AE": (60_000, 90_000),
    "SE": (30_000, 50_000),
    "SALES_MANAGER": (80_000, 120_000),
    "SALES_DIRECTOR": (120_000, 160_000),
}

SEGMENTS: tuple[str, ...] = ("SMB", "MidMarket", "Enterprise")
SEGMENT_WEIGHTS: tuple[float, ...] = (0.60, 0.32, 0.08)
DEAL_SIZE_USD: dict[str, tuple[int, int]] = {
    "SMB": (5_000, 25_000),
    "MidMarket": (20_000, 90_000),
    "Enterprise": (80_000, 250_000),
}
"""Amounts are triangular over these ranges with the mode at 30 % of the range (means ~14k / ~50k / ~154k
USD). Enterprise is ~8 % of deals and about a third of closed-won value. It used to be 10 % of deals at
80k-400k, half of the value, so a month's total hinged on how many of its ~10 enterprise wins landed (4 or 16
swung the month by -40 % or +60 %). Totals stay lumpy, as real bookings are: see the README."""

COMPANY_DOMAIN = "brightwave.example"
"""E-mail domain of the fictional company (RFC 2606 `.example`, so no real mailbox is ever addressed)."""


def pay_currency(region: Region, rng: random.Random) -> str:
    """Where a rep is employed decides their pay currency (some Canadians in NA, euro or sterling in EMEA)."""
    if region == "NA":
        return "CAD" if rng.random() < 0.2 else "USD"
    if region == "EMEA":
        return "GBP" if rng.random() < 0.4 else "EUR"
    if region == "APAC":
        return "AUD"
    return "USD"


def deal_currency(region: Region, rng: random.Random) -> str:
    """Accounts are contracted in their region's main currency."""
    if region == "EMEA":
        return "GBP" if rng.random() < 0.35 else "EUR"
    if region == "APAC":
        return "AUD"
    return "USD"


def name_locale(region: Region, currency: str, rng: random.Random) -> str:
    """Faker locale for a person or company, so names look like the region they belong to."""
    if region == "NA":
        return "en_CA" if currency == "CAD" else "en_US"
    if region == "EMEA":
        if currency == "GBP":
            return "en_GB"
        return rng.choice(("de_DE", "fr_FR", "es_ES", "nl_NL", "it_IT"))
    if region == "APAC":
        return "en_AU"
    return rng.choice(("es_MX", "pt_BR"))


def from_usd(amount_usd: float, currency: str) -> float:
    return amount_usd / NOMINAL_USD_PER_UNIT[currency]


def to_usd(amount: float, currency: str) -> float:
    return amount * NOMINAL_USD_PER_UNIT[currency]


def money(amount: float) -> Decimal:
    """Round to cents without float repr noise: 1234.5 -> Decimal('1234.50')."""
    return Decimal(round(amount * 100)).scaleb(-2)


def round_to_hundreds(amount: float) -> Decimal:
    return Decimal(round(amount / 100) * 100).quantize(Decimal("0.01"))


def percent(value: float) -> Decimal:
    """Split percentages with the contract's four decimals: 50 -> Decimal('50.0000')."""
    return Decimal(round(value * 10_000)).scaleb(-4)


def rate(value: float) -> Decimal:
    """FX rates with eight decimals."""
    return Decimal(round(value * 100_000_000)).scaleb(-8)
