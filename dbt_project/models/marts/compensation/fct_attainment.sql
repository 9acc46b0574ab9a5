{{ config(post_hook="{{ payee_row_security('attainment_month') }}") }}
-- depends_on: {{ ref('team_members_monthly') }}
-- Attainment per payee per month for the payee's plan period (month, quarter or year), exactly as the payout
-- computes it (int_period_attainment, which fct_monthly_payouts reads too): period credit as known at the
-- month end over the prorated period quota. Beside it, the pace figure: the same credit against the quota
-- spread evenly over the period's days elapsed by the month end.
-- Grain: one row per attainment_id (employee_id x attainment_month).
with period_attainment as (
    select
        period_attainment_id,
        employee_id,
        payout_month,
        plan_id,
        plan_version,
        pay_currency,
        quota_period,
        period_start,
        period_end,
        segment_start,
        segment_end,
        period_quota_amount,
        period_credited_amount,
        period_attainment,
        pace_quota_amount,
        pace_attainment
    from {{ ref('int_period_attainment') }}
)

select
    period_attainment_id as attainment_id,
    employee_id,
    payout_month as attainment_month,
    plan_id,
    plan_version,
    pay_currency as currency_code,
    quota_period,
    period_start,
    period_end,
    segment_start,
    segment_end,
    period_quota_amount,
    period_credited_amount,
    period_attainment,
    pace_quota_amount,
    pace_attainment
from period_attainment
