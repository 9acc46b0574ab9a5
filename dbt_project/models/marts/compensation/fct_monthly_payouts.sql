{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        partition_by=month_partition_by(['payout_month']),
        pre_hook="{{ delete_partition_window('payout_month') }}",
        tags=['monthly_partitioned'],
        post_hook="{{ payee_row_security('payout_month') }}",
    )
}}
-- depends_on: {{ ref('team_members_monthly') }}
-- The monthly payout preview: one row per payee-month (int_payout_months), zero-payout months included.
-- Every amount is the sum of the payee-month's ledger lines of that kind, so
--   net_payout_amount = gross commission (earning + true_up + rate_cap) + bonuses + adjustments + clawbacks
--                       + payout cap + draw + draw recovery + prior-period adjustments (closed months
--                       computed differently now)
-- to the cent. The publication step copies a month of this table into published.monthly_payouts only when
-- every blocking check passed. Partitioned by payout_month.
with engine_payout_months as (
    select
        payout_id, employee_id, payout_month, is_employed_with_plan, job_role, manager_employee_id, region,
        plan_id, plan_version, pay_currency, target_incentive_annual, active_days, days_in_month
    from {{ ref('int_payout_months') }}
    where {{ partition_window_filter('payout_month') }}
),

adjustment_only_months as (
    -- a prior-period adjustment can land in a month with no other row for the payee (after termination)
    select
        adjustments.employee_id,
        adjustments.payout_month,
        max(adjustments.currency_code) as pay_currency
    from {{ ref('int_prior_period_adjustments') }} as adjustments
    left join engine_payout_months
        on adjustments.employee_id = engine_payout_months.employee_id
        and adjustments.payout_month = engine_payout_months.payout_month
    where engine_payout_months.employee_id is null
        and {{ partition_window_filter('adjustments.payout_month') }}
    group by adjustments.employee_id, adjustments.payout_month
),

payout_months as (
    select * from engine_payout_months
    union all
    select
        {{ dbt.concat(["employee_id", "':'", to_text('payout_month')]) }} as payout_id,
        employee_id,
        payout_month,
        false as is_employed_with_plan,
        cast(null as {{ dbt.type_string() }}) as job_role,
        cast(null as {{ dbt.type_string() }}) as manager_employee_id,
        cast(null as {{ dbt.type_string() }}) as region,
        cast(null as {{ dbt.type_string() }}) as plan_id,
        cast(null as integer) as plan_version,
        pay_currency,
        cast(null as decimal(18, 2)) as target_incentive_annual,
        cast(null as integer) as active_days,
        cast(null as integer) as days_in_month
    from adjustment_only_months
),

period_attainment as (
    -- the plan period's quota, credit and attainment at the month end: the one definition fct_attainment shows
    select employee_id, payout_month, quota_period, period_start, period_quota_amount, period_credited_amount,
        period_attainment
    from {{ ref('int_period_attainment') }}
    where {{ partition_window_filter('payout_month') }}
),

line_totals as (
    select
        employee_id,
        payout_month,
        sum(case when entry_type in ('earning', 'true_up', 'rate_cap') then amount else 0 end)
            as gross_commission_amount,
        sum(case when entry_type = 'bonus' then amount else 0 end) as bonus_amount,
        sum(case when entry_type = 'adjustment' then amount else 0 end) as adjustment_amount,
        sum(case when entry_type = 'clawback' then amount else 0 end) as clawback_amount,
        sum(case when entry_type = 'payout_cap' then amount else 0 end) as cap_adjustment_amount,
        sum(case when entry_type = 'draw' then amount else 0 end) as draw_amount,
        sum(case when entry_type = 'draw_recovery' then amount else 0 end) as draw_recovery_amount,
        sum(case when entry_type = 'prior_period_adjustment' then amount else 0 end)
            as prior_period_adjustment_amount,
        sum(case when entry_type <> 'payout' then amount else 0 end) as net_payout_amount,
        sum(case when entry_type <> 'payout' then 1 else 0 end) as ledger_line_count
    from {{ ref('fct_commission_ledger') }}
    where {{ partition_window_filter('payout_month') }}
    group by employee_id, payout_month
),

caps as (
    select employee_id, payout_month, cap_amount
    from {{ ref('int_commission_caps') }}
),

draws as (
    select employee_id, payout_month, balance_after
    from {{ ref('int_draw_balances') }}
)

select
    payout_months.payout_id,
    payout_months.employee_id,
    payout_months.payout_month,
    payout_months.is_employed_with_plan,
    payout_months.job_role,
    payout_months.manager_employee_id,
    payout_months.region,
    payout_months.plan_id,
    payout_months.plan_version,
    payout_months.pay_currency as currency_code,
    payout_months.target_incentive_annual,
    payout_months.active_days,
    payout_months.days_in_month,
    period_attainment.quota_period,
    period_attainment.period_start,
    period_attainment.period_quota_amount as quota_amount,
    cast(coalesce(period_attainment.period_credited_amount, 0) as decimal(18, 2)) as period_credited_amount,
    period_attainment.period_attainment,
    caps.cap_amount,
    cast(coalesce(line_totals.gross_commission_amount, 0) as decimal(18, 2)) as gross_commission_amount,
    cast(coalesce(line_totals.bonus_amount, 0) as decimal(18, 2)) as bonus_amount,
    cast(coalesce(line_totals.adjustment_amount, 0) as decimal(18, 2)) as adjustment_amount,
    cast(coalesce(line_totals.clawback_amount, 0) as decimal(18, 2)) as clawback_amount,
    cast(coalesce(line_totals.cap_adjustment_amount, 0) as decimal(18, 2)) as cap_adjustment_amount,
    cast(coalesce(line_totals.draw_amount, 0) as decimal(18, 2)) as draw_amount,
    cast(coalesce(line_totals.draw_recovery_amount, 0) as decimal(18, 2)) as draw_recovery_amount,
    cast(coalesce(draws.balance_after, 0) as decimal(18, 2)) as draw_balance_amount,
    cast(coalesce(line_totals.prior_period_adjustment_amount, 0) as decimal(18, 2)) as prior_period_adjustment_amount,
    cast(coalesce(line_totals.net_payout_amount, 0) as decimal(18, 2)) as net_payout_amount,
    coalesce(line_totals.ledger_line_count, 0) as ledger_line_count
from payout_months
left join period_attainment
    on payout_months.employee_id = period_attainment.employee_id
    and payout_months.payout_month = period_attainment.payout_month
left join line_totals
    on payout_months.employee_id = line_totals.employee_id
    and payout_months.payout_month = line_totals.payout_month
left join caps
    on payout_months.employee_id = caps.employee_id
    and payout_months.payout_month = caps.payout_month
left join draws
    on payout_months.employee_id = draws.employee_id
    and payout_months.payout_month = draws.payout_month
