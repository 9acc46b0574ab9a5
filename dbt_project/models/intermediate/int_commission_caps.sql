-- Payout cap per payee-month: cap_amount = round(payout_cap_multiple * target_incentive_annual / 12, 2) from
-- the plan version of the month. When the month's commission entries (earnings, true-ups, adjustments,
-- clawbacks, bonuses, rate caps) exceed it, one negative adjustment brings the month down to the cap; the
-- excess is forfeited, not carried. Grain: one row per employee_id x payout_month.
with entry_totals as (
    select employee_id, payout_month, sum(amount) as commission_amount
    from {{ ref('int_commission_entries') }}
    group by employee_id, payout_month
),

plan_versions as (
    select plan_id, plan_version, payout_cap_multiple
    from {{ ref('stg_plans__plan_versions') }}
),

caps as (
    select
        payout_months.employee_id,
        payout_months.payout_month,
        payout_months.pay_currency,
        payout_months.plan_id,
        payout_months.plan_version,
        payout_months.target_incentive_annual,
        plan_versions.payout_cap_multiple,
        case when plan_versions.payout_cap_multiple is not null
            then cast(
                {{ exact_division(
                    exact_product('plan_versions.payout_cap_multiple', 'payout_months.target_incentive_annual'), '12', 2
                ) }}
                as decimal(18, 2)
            )
        end as cap_amount,
        cast(coalesce(entry_totals.commission_amount, 0) as decimal(18, 2)) as commission_amount
    from {{ ref('int_payout_months') }} as payout_months
    left join plan_versions
        on payout_months.plan_id = plan_versions.plan_id
        and payout_months.plan_version = plan_versions.plan_version
    left join entry_totals
        on payout_months.employee_id = entry_totals.employee_id
        and payout_months.payout_month = entry_totals.payout_month
)

select
    employee_id,
    payout_month,
    pay_currency,
    plan_id,
    plan_version,
    payout_cap_multiple,
    cap_amount,
    commission_amount,
    case
        when cap_amount is not null and commission_amount > cap_amount
            then cast(cap_amount - commission_amount as decimal(18, 2))
        else cast(0 as decimal(18, 2))
    end as cap_adjustment_amount
from caps
