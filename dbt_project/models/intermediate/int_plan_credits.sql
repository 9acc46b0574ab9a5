-- The credits each payee's plan pays on in each month: payee credits whose credit type the payee-month's
-- plan version lists, with a running total in deterministic order (close date, then credit id) that the
-- tier engine slices. Grain: one row per payee_credit_id.
with payee_credits as (
    select *
    from {{ ref('int_payee_credits') }}
),

payee_months as (
    select employee_id, payout_month, plan_id, plan_version
    from {{ ref('int_payee_months') }}
),

plan_credit_types as (
    select plan_id, plan_version, credit_type
    from {{ ref('stg_plans__plan_credit_types') }}
),

counted as (
    select
        payee_credits.*,
        payee_months.payout_month,
        payee_months.plan_id,
        payee_months.plan_version
    from payee_credits
    inner join payee_months
        on payee_credits.employee_id = payee_months.employee_id
        and payee_credits.credit_month = payee_months.payout_month
    inner join plan_credit_types
        on payee_months.plan_id = plan_credit_types.plan_id
        and payee_months.plan_version = plan_credit_types.plan_version
        and payee_credits.credit_type = plan_credit_types.credit_type
)

select
    counted.*,
    row_number() over (
        partition by employee_id, payout_month order by close_date, payee_credit_id
    ) as credit_sequence,
    sum(credit_amount) over (
        partition by employee_id, payout_month
        order by close_date, payee_credit_id
        rows between unbounded preceding and current row
    ) - credit_amount as cumulative_credit_before,
    sum(credit_amount) over (
        partition by employee_id, payout_month
        order by close_date, payee_credit_id
        rows between unbounded preceding and current row
    ) as cumulative_credit_after
from counted
