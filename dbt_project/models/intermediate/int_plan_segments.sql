-- Plan period segments: the unit the commission engine evaluates. The payee's plan (assignment and plan
-- version) is resolved per day; consecutive days with the same plan, version, quota period (month, quarter
-- or year, from the plan file) and pay currency form one segment. A plan change in the middle of a quarter
-- splits the quarter into two segments, and so does a pay-currency change (each segment is computed and paid
-- in one currency); termination ends a segment; a rehire starts a new one.
-- A segment still running at the end of the horizon (a quarter that has started but not ended) is projected to
-- the period end, the termination date or the plan version's end, whichever comes first: its quota does not
-- shrink just because the rest of the quarter has not happened yet.
-- Segment quota = round(full period quota * active days in segment / days in period, 2), the full quota being
-- the quota-sheet row for (employee, plan's period type, period start) converted to the pay currency at the
-- period-start rate; active days = employed days minus unpaid-leave days. A missing sheet row leaves the
-- quota null (the publication gate blocks). Grain: one row per segment_id (employee x segment start).
with days as (
    select date_day, month_start
    from {{ ref('int_calendar_days') }}
),

history as (
    select employee_id, valid_from, valid_to, job_role, pay_currency, target_incentive_annual, hire_date,
        termination_date
    from {{ ref('int_employee_history') }}
),

employee_days as (
    select
        history.employee_id,
        days.date_day,
        days.month_start,
        history.job_role,
        history.pay_currency,
        history.target_incentive_annual
    from history
    inner join days
        on days.date_day between history.valid_from and history.valid_to
        and days.date_day between history.hire_date and coalesce(history.termination_date, {{ end_of_time() }})
),

candidate_assignments as (
    {{ ranked_plan_assignments('employee_days', 'date_day', ['employee_id', 'date_day']) }}
),

plan_days as (
    select
        employee_days.*,
        plan_versions.plan_id,
        plan_versions.plan_version,
        plan_versions.quota_period,
        case plan_versions.quota_period
            when 'quarter' then cast({{ dbt.date_trunc('quarter', 'employee_days.date_day') }} as date)
            when 'year' then cast({{ dbt.date_trunc('year', 'employee_days.date_day') }} as date)
            else employee_days.month_start
        end as period_start
    from employee_days
    inner join candidate_assignments
        on employee_days.employee_id = candidate_assignments.employee_id
        and employee_days.date_day = candidate_assignments.date_day
        and candidate_assignments.assignment_rank = 1
    inner join {{ ref('stg_plans__plan_versions') }} as plan_versions
        on candidate_assignments.plan_id = plan_versions.plan_id
        and employee_days.date_day between plan_versions.effective_from
            and coalesce(plan_versions.effective_to, {{ end_of_time() }})
),

ranked_plan_days as (
    select
        plan_days.*,
        row_number() over (
            partition by employee_id, plan_id, plan_version, period_start, pay_currency order by date_day
        ) as day_rank
    from plan_days
),

islands as (
    -- consecutive days of one (plan, version, period) share this anchor (gaps-and-islands)
    select
        ranked_plan_days.*,
        cast({{ dbt.dateadd('day', '-1 * day_rank', 'date_day') }} as date) as island_anchor
    from ranked_plan_days
),

unpaid_leave_days as (
    select distinct leaves.employee_id, days.date_day
    from {{ ref('stg_hr__leaves') }} as leaves
    inner join days
        on days.date_day between leaves.start_date and leaves.end_date
    where not leaves.is_paid
),

segment_days as (
    select
        islands.employee_id,
        islands.plan_id,
        islands.plan_version,
        islands.quota_period,
        islands.period_start,
        islands.pay_currency,
        islands.island_anchor,
        min(islands.date_day) as segment_start,
        max(islands.date_day) as segment_end,
        count(*) as employed_days,
        count(unpaid_leave_days.date_day) as unpaid_leave_days
    from islands
    left join unpaid_leave_days
        on islands.employee_id = unpaid_leave_days.employee_id
        and islands.date_day = unpaid_leave_days.date_day
    group by 1, 2, 3, 4, 5, 6, 7
),

segments as (
    select
        segment_days.*,
        case segment_days.quota_period
            when 'quarter' then cast({{ dbt.dateadd('month', 3, 'segment_days.period_start') }} as date)
            when 'year' then cast({{ dbt.dateadd('month', 12, 'segment_days.period_start') }} as date)
            else cast({{ dbt.dateadd('month', 1, 'segment_days.period_start') }} as date)
        end as next_period_start
    from segment_days
),

horizon as (
    select max(date_day) as last_day
    from days
),

employments as (
    select distinct employee_id, termination_date
    from history
),

segment_attributes as (
    -- target incentive as of the segment's last day; days projected past the horizon
    select
        segments.*,
        employee_days.target_incentive_annual,
        case
            when segments.segment_end = horizon.last_day
                then {{ dbt.datediff(
                    'horizon.last_day',
                    'least(cast(' ~ dbt.dateadd('day', -1, 'segments.next_period_start') ~ ' as date), '
                    ~ 'coalesce(employments.termination_date, ' ~ end_of_time() ~ '), '
                    ~ 'coalesce(plan_versions.effective_to, ' ~ end_of_time() ~ '))',
                    'day'
                ) }}
            else 0
        end as projected_days
    from segments
    inner join employee_days
        on segments.employee_id = employee_days.employee_id
        and segments.segment_end = employee_days.date_day
    inner join employments
        on segments.employee_id = employments.employee_id
    inner join {{ ref('stg_plans__plan_versions') }} as plan_versions
        on segments.plan_id = plan_versions.plan_id
        and segments.plan_version = plan_versions.plan_version
    cross join horizon
),

with_quota as (
    select
        segment_attributes.*,
        {{ dbt.datediff('segment_attributes.period_start', 'segment_attributes.next_period_start', 'day') }}
            as days_in_period,
        quota_sheet.quota_amount as sheet_quota_amount,
        quota_sheet.currency_code as sheet_currency,
        {{ fx_rate(
            'quota_sheet.currency_code', 'segment_attributes.pay_currency',
            'sheet_fx.rate_to_reporting', 'pay_fx.rate_to_reporting',
            'segment_attributes.period_start'
        ) }} as quota_fx_rate
    from segment_attributes
    left join {{ ref('stg_salesops__quotas') }} as quota_sheet
        on segment_attributes.employee_id = quota_sheet.employee_id
        and segment_attributes.quota_period = quota_sheet.period_type
        and segment_attributes.period_start = quota_sheet.period_start
    left join {{ ref('int_fx_rates') }} as sheet_fx
        on quota_sheet.currency_code = sheet_fx.currency_code
        and quota_sheet.period_start = sheet_fx.rate_date
    left join {{ ref('int_fx_rates') }} as pay_fx
        on segment_attributes.pay_currency = pay_fx.currency_code
        and segment_attributes.period_start = pay_fx.rate_date
),

with_full_quota as (
    -- exact_product: DuckDB's 18-digit product overflowed from a 100,000,000.00 quota x a rate of 1 on; a quota
    -- converted beyond decimal(18, 2) stops the build naming the payee and period (macros/amount_range.sql)
    select
        with_quota.*,
        {{ fit_decimal(
            'round(' ~ exact_product('sheet_quota_amount', 'quota_fx_rate') ~ ', 2)',
            'the quota converted to pay currency',
            dbt.concat([
                "'quota '", "employee_id", "':'", "quota_period", "':'", to_text('period_start'), "' ('",
                "sheet_currency", "'->'", "pay_currency", "')'"
            ])
        ) }} as full_quota_amount
    from with_quota
)

select
    {{ dbt.concat(["employee_id", "':'", to_text('segment_start')]) }} as segment_id,
    employee_id,
    plan_id,
    plan_version,
    quota_period,
    period_start,
    cast({{ dbt.dateadd('day', -1, 'next_period_start') }} as date) as period_end,
    segment_start,
    segment_end,
    {{ month_start('segment_start') }} as segment_start_month,
    {{ month_start('segment_end') }} as segment_end_month,
    days_in_period,
    employed_days,
    unpaid_leave_days,
    projected_days,
    employed_days + projected_days - unpaid_leave_days as active_days,
    pay_currency,
    target_incentive_annual,
    sheet_quota_amount,
    sheet_currency,
    quota_fx_rate,
    full_quota_amount,
    cast(
        round(
            {{ exact_product('full_quota_amount', 'employed_days + projected_days - unpaid_leave_days') }}
            / days_in_period,
            2
        )
        as decimal(18, 2)
    ) as quota_amount
from with_full_quota
