-- Attainment per payee per month for the payee's plan period, as the commission engine evaluates it at the
-- month end: the one definition the payout (fct_monthly_payouts) and the attainment mart (fct_attainment)
-- both read, so the figure a rep is paid on and the figure BI shows cannot disagree.
--   segment            the plan segment covering the month end (or the last day on the plan in the month): one
--                      payee, one plan version, one quota period (month, quarter or year), prorated quota
--   period_credited    the credit that segment counts at its evaluation of this month, and the attainment
--                      against its quota, exactly as the tier engine uses them (int_segment_attainment): credits
--                      of the period closed so far, as known at the month end, after clawbacks and
--                      pay-on-invoice release, in the pay currency
--   pace               the segment quota spread evenly over the segment's calendar days, up to the month end,
--                      and period_credited against it: where the rep stands against the time elapsed. A quarterly
--                      rep with half the quarter's quota by the end of its first month is ahead (pace 150 %)
--                      though at 50 % of the period. A segment still running at the horizon counts its days to
--                      the period end (or termination or plan-version end), as its quota does, so the pace of a
--                      month does not move when later months are added.
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
        projected_days,
        pay_currency
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

with_attainment as (
    -- a segment is evaluated at the end of every month it covers, so each month-end segment has its row
    select
        month_end_segments.*,
        segment_attainment.quota_amount,
        segment_attainment.counted_credit_amount,
        segment_attainment.attainment,
        {{ dbt.datediff('month_end_segments.segment_start', 'month_end_segments.segment_end', 'day') }} + 1
            + month_end_segments.projected_days as segment_days,
        {{ dbt.datediff(
            'month_end_segments.segment_start',
            'case when month_end_segments.segment_end < month_end_segments.month_end'
            ~ ' then month_end_segments.segment_end else month_end_segments.month_end end',
            'day'
        ) }} + 1 as segment_days_elapsed
    from month_end_segments
    inner join {{ ref('int_segment_attainment') }} as segment_attainment
        on month_end_segments.segment_id = segment_attainment.segment_id
        and month_end_segments.payout_month = segment_attainment.evaluation_month
),

with_pace as (
    select
        with_attainment.*,
        {{ exact_division(exact_product('quota_amount', 'segment_days_elapsed'), 'segment_days', 2) }}
            as pace_quota_amount
    from with_attainment
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
    counted_credit_amount as period_credited_amount,
    attainment as period_attainment,
    segment_days,
    segment_days_elapsed,
    pace_quota_amount,
    case when pace_quota_amount > 0
        then {{ exact_division('counted_credit_amount', 'pace_quota_amount') }}
    end as pace_attainment
from with_pace
