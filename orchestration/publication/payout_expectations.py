"""The Great Expectations suite for the monthly payout table.

GX is imported inside `validate_payouts` because importing it takes seconds; loading the Dagster code
location must stay fast. The suite runs on the payout rows about to be published (a pandas frame) with an
ephemeral context: nothing is written to disk, the result becomes `CheckResult`s like the SQL gates.
"""

from __future__ import annotations

import logging
import os
from decimal import Decimal

import pandas as pd

from orchestration.publication.gates import SAMPLE_SIZE, CheckResult

log = logging.getLogger(__name__)

SUITE_NAME = "monthly_payouts"


AMOUNT_COLUMNS = (
    "net_payout_amount",
    "gross_commission_amount",
    "bonus_amount",
    "adjustment_amount",
    "clawback_amount",
    "cap_adjustment_amount",
    "draw_amount",
    "draw_recovery_amount",
    "prior_period_adjustment_amount",
)


def _build_suite(gx):
    e = gx.expectations
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    for column in ("payout_id", "employee_id", "payout_month", "currency_code", *AMOUNT_COLUMNS):
        suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=column))
    # After termination a payee can still get lines (a clawback) without a plan that month; while employed
    # every payout row must name its plan and version.
    for column in ("plan_id", "plan_version"):
        suite.add_expectation(
            e.ExpectColumnValuesToNotBeNull(
                column=column, row_condition="is_employed_with_plan == True", condition_parser="pandas"
            )
        )
    suite.add_expectation(e.ExpectColumnValuesToBeUnique(column="payout_id"))
    suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(column_list=["employee_id", "payout_month"]))
    suite.add_expectation(e.ExpectColumnValuesToMatchRegex(column="currency_code", regex=r"^[A-Z]{3}$"))
    # Only a correction (clawback, negative adjustment or true-up) can make someone owe money: a month without
    # one paying a negative amount is a bug.
    suite.add_expectation(
        e.ExpectColumnValuesToBeBetween(
            column="net_payout_amount",
            min_value=0,
            row_condition=(
                "clawback_amount == 0 and adjustment_amount >= 0 and gross_commission_amount >= 0"
                " and prior_period_adjustment_amount >= 0"
            ),
            condition_parser="pandas",
        )
    )
    for column in ("cap_adjustment_amount", "clawback_amount", "draw_recovery_amount"):
        suite.add_expectation(e.ExpectColumnValuesToBeBetween(column=column, max_value=0))
    for column in ("bonus_amount", "draw_amount", "draw_balance_amount"):
        suite.add_expectation(e.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    # the cap limits the month's own commission; a draw topping a low month up is paid on top of it, and a
    # prior-period adjustment belongs to a month that was capped when it was computed
    suite.add_expectation(
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="cap_amount",
            column_B="commission_after_cap_amount",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
    )
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="active_days", min_value=0, max_value=31))
    suite.add_expectation(e.ExpectTableRowCountToBeBetween(min_value=1))
    return suite


def validate_payouts(payouts: pd.DataFrame) -> list[CheckResult]:
    """Validate the payout rows with the GX suite; one CheckResult per expectation."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx  # slow import, kept local on purpose

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    frame = payouts.copy()
    # GX compares numbers; decimals arrive as Python Decimal objects from DuckDB.
    for column in frame.columns:
        if frame[column].dtype == object and frame[column].map(lambda v: isinstance(v, Decimal)).any():
            frame[column] = frame[column].astype(float)
    frame["commission_after_cap_amount"] = (
        frame["net_payout_amount"]
        - frame["draw_amount"]
        - frame["draw_recovery_amount"]
        - frame["prior_period_adjustment_amount"]
    )
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch_definition = (
        context.data_sources.add_pandas("publication")
        .add_dataframe_asset(SUITE_NAME)
        .add_batch_definition_whole_dataframe("candidate")
    )
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    outcome = batch.validate(_build_suite(gx), result_format={"result_format": "COMPLETE"})

    results = []
    for r in outcome.results:
        cfg = r.expectation_config
        kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id",)}
        target = (
            kwargs.get("column")
            or kwargs.get("column_list")
            or (f"{kwargs.get('column_A')} vs {kwargs.get('column_B')}" if "column_A" in kwargs else "table")
        )
        indexes = list(r.result.get("unexpected_index_list") or [])
        sample = tuple(
            str(frame.iloc[i]["payout_id"]) if "payout_id" in frame.columns else str(i) for i in indexes[:SAMPLE_SIZE]
        )
        results.append(
            CheckResult(
                check_name=f"gx:{cfg.type}:{target if isinstance(target, str) else '+'.join(target)}",
                rule=f"Great Expectations {cfg.type} {kwargs}",
                passed=bool(r.success),
                failing_count=int(r.result.get("unexpected_count") or (0 if r.success else 1)),
                sample_keys=sample,
            )
        )
    return results
