"""Throw-away servers and sessions of the other dbt targets (PostgreSQL, Spark) for the equivalence tests."""

COMPARED_MARTS = (
    # every mart finance and BI read about pay, quota and retention; whole rows, explanations included
    "marts.fct_monthly_payouts",
    "marts.fct_commission_ledger",
    "marts.fct_attainment",
    "marts.fct_quota",
    "marts.fct_retention_monthly",
    "marts.fct_customer_arr_monthly",
)
"""What an engine must compute to the cent, the same as DuckDB."""
