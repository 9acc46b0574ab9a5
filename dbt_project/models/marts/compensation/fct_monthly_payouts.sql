{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_partition_window('payout_month') }}",
        tags=['monthly_partitioned'],
    )
}}
-- The monthly payout preview: one row per payee (employee with a plan) per month, zero-payout months
-- included. net_payout_amount = gross commission (tier lines) + bonuses + cap adjustment = the sum of the
-- payee-month's commission lines, to the cent. The publication
-- step copies a month of this table into published.monthly_payouts only when every blocking check passed.
-- Partitioned by payout_month.
with payee_months as (
    select
        employee_id, payout_month, job_role, manager_employee_id, region, pay_currency, plan_id, plan_version,
        target_incentive_annual, active_days, days_in_month
    from {{ ref('int_payee_months') }}
    where {{ partition_window_filter('payout_month') }}
),

attainment as (
    select employee_id, payout_month, quota_amount, credited_amount, attainment
    from {{ ref('int_attainment_monthly') }}
),

caps as (
    select employee_id, payout_month, cap_amount
    from {{ ref('int_commission_caps') }}
),

line_totals as (
    select
        employee_id,
        payout_month,
        sum(case when rule_type = 'tier' then commission_amount else 0 end) as gross_commission_amount,
        sum(case when rule_type = 'bonus' then commission_amount else 0 end) as bonus_amount,
        sum(case when rule_type = 'payout_cap' then commission_amount else 0 end) as cap_adjustment_amount,
        sum(commission_amount) as net_payout_amount,
        count(*) as commission_line_count
    from {{ ref('fct_commission_lines') }}
    where {{ partition_window_filter('payout_month') }}
    group by employee_id, payout_month
)

select
    {{ dbt.concat(["payee_months.employee_id", "':'", to_text('payee_months.payout_month')]) }} as payout_id,
    payee_months.employee_id,
    payee_months.payout_month,
    payee_months.job_role,
    payee_months.manager_employee_id,
    payee_months.region,
    payee_months.plan_id,
    payee_months.plan_version,
    payee_months.pay_currency as currency_code,
    payee_months.target_incentive_annual,
    payee_months.active_days,
    payee_months.days_in_month,
    attainment.quota_amount,
    attainment.credited_amount,
    attainment.attainment,
    caps.cap_amount,
    cast(coalesce(line_totals.gross_commission_amount, 0) as decimal(18, 2)) as gross_commission_amount,
    cast(coalesce(line_totals.bonus_amount, 0) as decimal(18, 2)) as bonus_amount,
    cast(coalesce(line_totals.cap_adjustment_amount, 0) as decimal(18, 2)) as cap_adjustment_amount,
    cast(coalesce(line_totals.net_payout_amount, 0) as decimal(18, 2)) as net_payout_amount,
    coalesce(line_totals.commission_line_count, 0) as commission_line_count
from payee_months
left join attainment
    on payee_months.employee_id = attainment.employee_id
    and payee_months.payout_month = attainment.payout_month
left join caps
    on payee_months.employee_id = caps.employee_id
    and payee_months.payout_month = caps.payout_month
left join line_totals
    on payee_months.employee_id = line_totals.employee_id
    and payee_months.payout_month = line_totals.payout_month
