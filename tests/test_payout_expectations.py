"""The Great Expectations payout suite: passes clean rows (including all-null optional columns) and names offenders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from orchestration.publication.payout_expectations import validate_payouts


def _payouts(net: list[str], cap: list[str | None], clawback: list[str] | None = None) -> pd.DataFrame:
    n = len(net)
    return pd.DataFrame(
        {
            "payout_id": [f"E{i}:2025-01-01" for i in range(n)],
            "employee_id": [f"E{i}" for i in range(n)],
            "payout_month": [date(2025, 1, 1)] * n,
            "currency_code": ["USD"] * n,
            "plan_id": ["ae"] * n,
            "plan_version": [1] * n,
            "net_payout_amount": [Decimal(v) for v in net],
            "gross_commission_amount": [max(Decimal(v), Decimal("0.00")) for v in net],
            "bonus_amount": [Decimal("0.00")] * n,
            "adjustment_amount": [Decimal("0.00")] * n,
            "clawback_amount": [Decimal(v) if Decimal(v) < 0 else Decimal("0.00") for v in clawback or ["0"] * n],
            "cap_adjustment_amount": [Decimal("0.00")] * n,
            "draw_amount": [Decimal("0.00")] * n,
            "draw_recovery_amount": [Decimal("0.00")] * n,
            "prior_period_adjustment_amount": [Decimal("0.00")] * n,
            "draw_balance_amount": [Decimal("0.00")] * n,
            "is_employed_with_plan": [True] * n,
            "cap_amount": [None if c is None else Decimal(c) for c in cap],
            "active_days": [31] * n,
        }
    )


def test_clean_payouts_pass_even_when_an_optional_column_is_all_null():
    results = validate_payouts(_payouts(["100.00", "0.00"], [None, None]))
    assert results and all(r.passed for r in results), [r.describe() for r in results if not r.passed]


def test_negative_payout_fails_naming_the_payout():
    results = validate_payouts(_payouts(["100.00", "-5.00"], ["500.00", "500.00"]))
    failing = [r for r in results if not r.passed]
    assert [r.check_name for r in failing] == ["gx:expect_column_values_to_be_between:net_payout_amount"]
    assert failing[0].sample_keys == ("E1:2025-01-01",)


def test_negative_payout_from_a_clawback_passes():
    """A clawback larger than the month's earnings leaves the rep owing money; that is a result, not a bug."""
    results = validate_payouts(_payouts(["100.00", "-5.00"], ["500.00", "500.00"], clawback=["0", "-5.00"]))
    assert all(r.passed for r in results), [r.describe() for r in results if not r.passed]


def test_missing_plan_only_fails_while_employed():
    frame = _payouts(["100.00", "0.00"], [None, None])
    frame.loc[1, "plan_id"] = None
    frame.loc[1, "plan_version"] = None
    frame.loc[1, "is_employed_with_plan"] = False
    assert all(r.passed for r in validate_payouts(frame))
    frame.loc[1, "is_employed_with_plan"] = True
    failing = [r.check_name for r in validate_payouts(frame) if not r.passed]
    assert failing == [
        "gx:expect_column_values_to_not_be_null:plan_id",
        "gx:expect_column_values_to_not_be_null:plan_version",
    ]
