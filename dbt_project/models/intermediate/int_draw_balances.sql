-- Draws per payee-month (plan `draw:`), after the payout cap. E = the month's commission after the cap.
--   draw amount  = round(monthly_share_of_target_incentive * TI / 12, 2) in the first `months_from_hire`
--                  payout months (the hire month is month 1), else 0
--   top-up d     = max(0, draw amount - E)                    -> a `draw` line
--   available a  = round(recovery_share * max(0, E - draw amount), 2) for recoverable draws, else 0
--   balance B_t  = max(0, B_{t-1} + d_t - a_t)                -> recovery_t = B_{t-1} + d_t - B_t (a `draw_recovery`)
-- The balance recursion is the Lindley recursion, computed without recursion (so every engine runs it):
-- with S_t = sum of (d - a) up to t, B_t = S_t - min(0, min over u <= t of S_u).
-- Non-recoverable draws pay the top-up and never build a balance. A balance left at termination is written
-- off: lines booked after termination (a late deal, a clawback) recover nothing; the balance stays visible here. The recovery share of a month whose plan has no draw is the employee's
-- recoverable draw's. Grain: one row per employee_id x payout_month.
with months as (
    select
        payout_months.employee_id,
        payout_months.payout_month,
        payout_months.pay_currency,
        payout_months.target_incentive_annual,
        payout_months.hire_date,
        payout_months.is_employed_with_plan,
        plan_versions.draw_kind,
        plan_versions.draw_monthly_share,
        plan_versions.draw_months_from_hire,
        coalesce(
            plan_versions.draw_recovery_share,
            max(case when plan_versions.draw_kind = 'recoverable' then plan_versions.draw_recovery_share end)
                over (partition by payout_months.employee_id)
        ) as recovery_share,
        max(case when plan_versions.draw_kind = 'recoverable' then 1 else 0 end)
            over (partition by payout_months.employee_id) as has_recoverable_draw,
        caps.commission_amount + caps.cap_adjustment_amount as earnings_amount
    from {{ ref('int_payout_months') }} as payout_months
    inner join {{ ref('int_commission_caps') }} as caps
        on payout_months.employee_id = caps.employee_id
        and payout_months.payout_month = caps.payout_month
    left join {{ ref('stg_plans__plan_versions') }} as plan_versions
        on payout_months.plan_id = plan_versions.plan_id
        and payout_months.plan_version = plan_versions.plan_version
),

draw_amounts as (
    select
        months.*,
        case
            when draw_kind is not null
                and {{ dbt.datediff(month_start('hire_date'), 'payout_month', 'month') }} + 1
                    between 1 and draw_months_from_hire
                then {{ exact_division(exact_product('draw_monthly_share', 'target_incentive_annual'), '12', 2) }}
            else cast(0 as decimal(18, 2))
        end as draw_amount
    from months
),

flows as (
    select
        draw_amounts.*,
        case when draw_amount > 0 and draw_amount > earnings_amount then draw_amount - earnings_amount else 0 end
            as top_up_amount,
        case
            when has_recoverable_draw = 1 and is_employed_with_plan and earnings_amount > draw_amount
                then cast(
                    round({{ exact_product('recovery_share', 'earnings_amount - draw_amount') }}, 2) as decimal(18, 2)
                )
            else cast(0 as decimal(18, 2))
        end as available_recovery_amount,
        case when draw_kind = 'recoverable' or (draw_kind is null and has_recoverable_draw = 1) then 1 else 0 end
            as builds_balance
    from draw_amounts
),

running as (
    select
        flows.*,
        sum(
            case when builds_balance = 1 then top_up_amount else 0 end - available_recovery_amount
        ) over (partition by employee_id order by payout_month rows between unbounded preceding and current row)
            as cumulative_net_flow
    from flows
),

balances as (
    select
        running.*,
        cumulative_net_flow - least(
            0,
            min(cumulative_net_flow) over (
                partition by employee_id order by payout_month rows between unbounded preceding and current row
            )
        ) as balance_after
    from running
)

select
    employee_id,
    payout_month,
    pay_currency,
    draw_kind,
    earnings_amount,
    draw_amount,
    cast(top_up_amount as decimal(18, 2)) as draw_paid_amount,
    available_recovery_amount,
    cast(
        coalesce(lag(balance_after) over (partition by employee_id order by payout_month), 0) as decimal(18, 2)
    ) as balance_before,
    cast(
        coalesce(lag(balance_after) over (partition by employee_id order by payout_month), 0)
        + case when builds_balance = 1 then top_up_amount else 0 end
        - balance_after
        as decimal(18, 2)
    ) as recovery_amount,
    cast(balance_after as decimal(18, 2)) as balance_after
from balances
