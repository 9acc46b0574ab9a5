"""What the engine does with an FX conversion that leaves the range of its amount columns (issue 15, defect 3).

Every amount the source contracts allow (money at most 13 integer digits) is computed exactly: the scenario
library's s58 pays ten billion IDR and trillions of VND to the cent. What no bound on sources can keep in range is
a conversion at a cross rate far above 1. Such a build must stop with an error that names the row (credit and
currency pair, or the currency pair and date of the cross rate) and says what did not fit, instead of DuckDB's
nameless "Overflow in multiplication of DECIMAL(18)"; the message carries keys only, never an amount
(docs/pay-data-protection.md). Each case is a one-scenario company built with the real loaders and `dbt build`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .harness import build_warehouse
from .schema import read_scenario_file

_PLAN = """
plans:
  - plan_id: {key}_vnd
    version: 1
    name: {key} AE paid in VND
    effective_from: 2025-01-01
    credit_types: [revenue]
    tier_method: marginal
    quota_period: month
    tiers:
      - {{from_attainment: 0.0, to_attainment: null, rate: 0.02}}
employees:
  - {{id: rep, region: APAC, pay_currency: VND, plan: {key}_vnd, quota: {{period: month, amount: 1000000000}}}}
expected:
  payouts:
    - {{employee: rep, month: 2025-06, net: 0}}
"""

CASES = {
    # USD 9,999,999,999,999.99 (the money bound) x round(1 / 0.00004, 8) = 25,000 = 249,999,999,999,999,750.00
    # VND: 18 integer digits, beyond decimal(18, 2)
    "credit_converted_beyond_the_amount_columns": (
        """
        id: s90_credit_beyond_range
        title: A deal at the money bound converted into VND
        mechanics: [amount range]
        asserts: the build stops naming the credit
        computation: "9,999,999,999,999.99 USD x 25,000 = 249,999,999,999,999,750.00 VND"
        deals:
          - {id: d1, owner: rep, amount: 9999999999999.99, currency: USD, close_date: 2025-06-10}
        """,
        "model.spm.int_commission_evaluation_credits",
        "the credit converted to pay currency does not fit decimal(18, 2) for credit s90_d1:owner of segment "
        "s90_rep:2025-06-01 (USD->VND on 2025-06-10): an amount or FX rate beyond the range the engine computes "
        "with (docs/compensation-engine.md, Amount range)",
        ["9999999999999.99", "249999999999999750"],
    ),
    # round(100 / 0.00000001, 8) = 10,000,000,000: two rates the FX contract allows, 10 orders of magnitude apart,
    # whose cross rate does not fit decimal(18, 8)
    "cross_rate_beyond_decimal_18_8": (
        """
        id: s91_cross_rate_beyond_range
        title: A GBP deal for a VND payee on a day the feed sends GBP at 100 and VND at 0.00000001
        mechanics: [amount range]
        asserts: the build stops naming the currency pair and the date
        computation: "round(100 / 0.00000001, 8) = 10,000,000,000"
        deals:
          - {id: d1, owner: rep, amount: 1000.00, currency: GBP, close_date: 2025-06-10}
        fx:
          - {currency: GBP, date: 2025-06-10, rate: 100}
          - {currency: VND, date: 2025-06-10, rate: 0.00000001}
        """,
        "model.spm.int_commission_evaluation_credits",
        "the FX cross rate does not fit decimal(18, 8) for GBP->VND on 2025-06-10: an amount or FX rate beyond the "
        "range the engine computes with (docs/compensation-engine.md, Amount range)",
        ["10000000000"],
    ),
}


@pytest.mark.parametrize(("scenario_yaml", "model", "message", "amounts"), CASES.values(), ids=CASES.keys())
def test_a_conversion_beyond_the_engines_range_stops_the_build_naming_the_row(
    scenario_yaml: str, model: str, message: str, amounts: list[str], tmp_path: Path
) -> None:
    body = textwrap.dedent(scenario_yaml)
    key = body.split("id: ", 1)[1][:3]
    path = tmp_path / "scenario.yaml"
    path.write_text(body + _PLAN.format(key=key), encoding="utf-8")
    (scenario,) = read_scenario_file(path)

    warehouse = build_warehouse([scenario], tmp_path / "build")

    assert warehouse.dbt_returncode != 0, "the build must stop"
    errors = [f for f in warehouse.dbt_failures if f.status == "error"]
    assert [f.unique_id for f in errors] == [model], warehouse.dbt_log_tail
    assert message in " ".join(errors[0].message.split()), errors[0].message
    assert "Overflow" not in warehouse.dbt_log_tail
    for amount in amounts:
        assert amount not in warehouse.dbt_log_tail, "an amount reached the log"
