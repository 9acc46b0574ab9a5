-- Payout cap per payee-month: cap_amount = round(payout_cap_multiple * target_incentive_annual / 12, 2) from
-- the plan version. When tier commission plus bonuses exceed it, one negative 'payout_cap' adjustment line
-- brings the month down to the cap, so commission lines still sum exactly to the payout. Grain: one row per payee-month.
with tier_totals as (
    select employee_id, payout_month, sum(commission_amount) as tier_commission_amount
    from {{ ref('int_commission_tier_slices') }}
    group by employee_id, payout_month
),

bonus_totals as (
    select employee_id, payout_month, sum(bonus_amount) as bonus_amount
    from {{ ref('int_commission_bonuses') }}
    group by employee_id, payout_month
),

payee_months as (
    select employee_id, payout_month, pay_currency, plan_id, plan_version, target_incentive_annual
    from {{ ref('int_payee_months') }}
),

plan_versions as (
    select plan_id, plan_version, payout_cap_multiple
    from {{ ref('stg_plans__plan_versions') }}
),

caps as (
    select
        payee_months.employee_id,
        payee_months.payout_month,
        payee_months.pay_currency,
        payee_months.plan_id,
        payee_months.plan_version,
        plan_versions.payout_cap_multiple,
        case
            when plan_versions.payout_cap_multiple is not null
                then cast(
                    round(plan_versions.payout_cap_multiple * payee_months.target_incentive_annual / 12, 2)
                    as decimal(18, 2)
                )
        end as cap_amount,
        cast(coalesce(tier_totals.tier_commission_amount, 0) as decimal(18, 2)) as tier_commission_amount,
        cast(coalesce(bonus_totals.bonus_amount, 0) as decimal(18, 2)) as bonus_amount
    from payee_months
    left join plan_versions
        on payee_months.plan_id = plan_versions.plan_id
        and payee_months.plan_version = plan_versions.plan_version
    left join tier_totals
        on payee_months.employee_id = tier_totals.employee_id
        and payee_months.payout_month = tier_totals.payout_month
    left join bonus_totals
        on payee_months.employee_id = bonus_totals.employee_id
        and payee_months.payout_month = bonus_totals.payout_month
)

select
    employee_id,
    payout_month,
    pay_currency,
    plan_id,
    plan_version,
    payout_cap_multiple,
    cap_amount,
    tier_commission_amount,
    bonus_amount,
    case
        when cap_amount is not null and tier_commission_amount + bonus_amount > cap_amount
            then cast(cap_amount - tier_commission_amount - bonus_amount as decimal(18, 2))
        else cast(0 as decimal(18, 2))
    end as cap_adjustment_amount
from caps
