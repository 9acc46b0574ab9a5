-- Attainment per payee per month for the payee's plan period, as the commission engine evaluates it at the
-- month end: the one definition the payout (fct_monthly_payouts) and the attainment mart (fct_attainment)
-- both read, so the figure a rep is paid on and the figure BI shows cannot disagree.
--   segment            the plan segment covering the month end (or the last day on the plan in the month): one
--                      payee, one plan version, one quota period (month, quarter or year), prorated quota
--   period_credited    the credit that segment counts at its evaluation of this month: credits of the period
--                      closed so far, as known at the month end, after clawbacks and pay-on-invoice release,
--                      in the pay currency (int_commission_evaluation_credits.counted_credit_amount)
--   period_attainment  period_credited / segment quota (null without a positive quota)
--   pace               the segment quota spread evenly over the segment's calendar days up to the month end,
--                      and period_credited against it: where the rep stands against the time elapsed. A quarterly
--                      rep with half the quarter's quota by the end of its first month is ahead (pace 150 %)
--                      though at 50 % of the period.
-- Grain: one row per employee_id x payout_month (months with a plan segment).
with segments as (
    select
        segment_id,
        employee_id,
        plan_id,
        plan_version,
        quota_period,
        period_start,
        period_end,
        segment_start,
        segment_end,
        pay_currency,
        quota_amount
    from {{ ref('int_plan_segments') }}
),

months as (
    select month_start, month_end
    from {{ ref('int_calendar_months') }}
),

segment_months as (
    select
        segments.*,
        months.month_start as payout_month,
        months.month_end,
        row_number() over (
            partition by segments.employee_id, months.month_start order by segments.segment_end desc
        ) as recency_rank
    from segments
    inner join months
        on segments.segment_start <= months.month_end
        and segments.segment_end >= months.month_start
),

month_end_segments as (
    select *
    from segment_months
    where recency_rank = 1
),

period_credit as (
    select
        segment_id,
        evaluation_month,
        sum(counted_credit_amount) as counted_credit_amount
    from {{ ref('int_commission_evaluation_credits') }}
    group by segment_id, evaluation_month
),

with_credit as (
    select
        month_end_segments.*,
        coalesce(period_credit.counted_credit_amount, 0) as period_credited_amount,
        {{ dbt.datediff('month_end_segments.segment_start', 'month_end_segments.segment_end', 'day') }} + 1
            as segment_days,
        {{ dbt.datediff(
            'month_end_segments.segment_start',
            'case when month_end_segments.segment_end < month_end_segments.month_end'
            ~ ' then month_end_segments.segment_end else month_end_segments.month_end end',
            'day'
        ) }} + 1 as segment_days_elapsed
    from month_end_segments
    left join period_credit
        on month_end_segments.segment_id = period_credit.segment_id
        and month_end_segments.payout_month = period_credit.evaluation_month
),

with_pace as (
    select
        with_credit.*,
        {{ exact_division(exact_product('quota_amount', 'segment_days_elapsed'), 'segment_days', 2) }}
            as pace_quota_amount
    from with_credit
)

select
    {{ dbt.concat(["employee_id", "':'", to_text('payout_month')]) }} as period_attainment_id,
    employee_id,
    payout_month,
    segment_id,
    plan_id,
    plan_version,
    pay_currency,
    quota_period,
    period_start,
    period_end,
    segment_start,
    segment_end,
    quota_amount as period_quota_amount,
    cast(period_credited_amount as decimal(18, 2)) as period_credited_amount,
    case when quota_amount > 0
        then {{ exact_division('period_credited_amount', 'quota_amount') }}
    end as period_attainment,
    segment_days,
    segment_days_elapsed,
    pace_quota_amount,
    case when pace_quota_amount > 0
        then {{ exact_division('period_credited_amount', 'pace_quota_amount') }}
    end as pace_attainment
from with_pace
