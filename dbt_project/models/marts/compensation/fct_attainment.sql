{{ config(post_hook="{{ payee_row_security('attainment_month') }}") }}
-- depends_on: {{ ref('team_members_monthly') }}
-- Attainment per payee per month, month-to-date, quarter-to-date and year-to-date: credited amount
-- (credits the payee's plan pays on) over prorated quota, both summed over the period so far.
-- Grain: one row per employee_id x attainment_month.
with monthly as (
    select
        attainment.employee_id,
        attainment.payout_month,
        attainment.pay_currency,
        attainment.plan_id,
        attainment.plan_version,
        attainment.quota_amount,
        attainment.credited_amount,
        months.quarter_start,
        months.year_start
    from {{ ref('int_attainment_monthly') }} as attainment
    inner join {{ ref('int_calendar_months') }} as months
        on attainment.payout_month = months.month_start
),

to_date as (
    select
        monthly.*,
        sum(credited_amount) over (
            partition by employee_id, quarter_start order by payout_month rows between unbounded preceding and current row
        ) as qtd_credited_amount,
        sum(quota_amount) over (
            partition by employee_id, quarter_start order by payout_month rows between unbounded preceding and current row
        ) as qtd_quota_amount,
        sum(credited_amount) over (
            partition by employee_id, year_start order by payout_month rows between unbounded preceding and current row
        ) as ytd_credited_amount,
        sum(quota_amount) over (
            partition by employee_id, year_start order by payout_month rows between unbounded preceding and current row
        ) as ytd_quota_amount
    from monthly
)

select
    {{ dbt.concat(["employee_id", "':'", to_text('payout_month')]) }} as attainment_id,
    employee_id,
    payout_month as attainment_month,
    plan_id,
    plan_version,
    pay_currency as currency_code,
    credited_amount as mtd_credited_amount,
    quota_amount as mtd_quota_amount,
    case when quota_amount > 0 then {{ exact_division('credited_amount', 'quota_amount') }} end
        as mtd_attainment,
    cast(qtd_credited_amount as decimal(18, 2)) as qtd_credited_amount,
    cast(qtd_quota_amount as decimal(18, 2)) as qtd_quota_amount,
    case when qtd_quota_amount > 0 then {{ exact_division('qtd_credited_amount', 'qtd_quota_amount') }} end
        as qtd_attainment,
    cast(ytd_credited_amount as decimal(18, 2)) as ytd_credited_amount,
    cast(ytd_quota_amount as decimal(18, 2)) as ytd_quota_amount,
    case when ytd_quota_amount > 0 then {{ exact_division('ytd_credited_amount', 'ytd_quota_amount') }} end
        as ytd_attainment
from to_date
