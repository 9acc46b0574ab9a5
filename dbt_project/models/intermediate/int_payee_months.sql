-- One row per payee per month: every employee employed at least one day of the month who has a plan.
-- Attributes, plan assignment and plan version are taken as of the payee-month's as-of date: the month end,
-- or the termination date when the payee left during the month. Active days exclude unpaid leave.
with months as (
    select month_start, month_end, days_in_month
    from {{ ref('int_calendar_months') }}
),

history as (
    select *
    from {{ ref('int_employee_history') }}
),

employments as (
    select distinct employee_id, hire_date, termination_date
    from history
),

employment_months as (
    select
        employments.employee_id,
        employments.hire_date,
        employments.termination_date,
        months.month_start,
        months.month_end,
        months.days_in_month,
        case
            when employments.termination_date < months.month_end then employments.termination_date
            else months.month_end
        end as as_of_date
    from employments
    inner join months
        on employments.hire_date <= months.month_end
        and coalesce(employments.termination_date, {{ end_of_time() }}) >= months.month_start
),

attributes_as_of as (
    select
        employment_months.*,
        history.job_role,
        history.manager_employee_id,
        history.region,
        history.pay_currency,
        history.target_incentive_annual
    from employment_months
    inner join history
        on employment_months.employee_id = history.employee_id
        and employment_months.as_of_date between history.valid_from and history.valid_to
),

candidate_assignments as (
    {{ ranked_plan_assignments('attributes_as_of', 'as_of_date', ['employee_id', 'month_start']) }}
),

plan_versions as (
    select plan_id, plan_version, effective_from, effective_to
    from {{ ref('stg_plans__plan_versions') }}
),

unpaid_leave_days as (
    select
        leaves.employee_id,
        days.month_start,
        count(distinct days.date_day) as unpaid_leave_days
    from {{ ref('stg_hr__leaves') }} as leaves
    inner join {{ ref('int_calendar_days') }} as days
        on days.date_day between leaves.start_date and leaves.end_date
    where not leaves.is_paid
    group by leaves.employee_id, days.month_start
),

employed_days as (
    select
        employment_months.employee_id,
        employment_months.month_start,
        count(*) as employed_days
    from employment_months
    inner join {{ ref('int_calendar_days') }} as days
        on days.month_start = employment_months.month_start
        and days.date_day between employment_months.hire_date
            and coalesce(employment_months.termination_date, {{ end_of_time() }})
    group by employment_months.employee_id, employment_months.month_start
)

select
    attributes_as_of.employee_id,
    attributes_as_of.month_start as payout_month,
    attributes_as_of.month_end,
    attributes_as_of.as_of_date,
    attributes_as_of.days_in_month,
    attributes_as_of.hire_date,
    employed_days.employed_days,
    coalesce(unpaid_leave_days.unpaid_leave_days, 0) as unpaid_leave_days,
    case
        when employed_days.employed_days - coalesce(unpaid_leave_days.unpaid_leave_days, 0) < 0 then 0
        else employed_days.employed_days - coalesce(unpaid_leave_days.unpaid_leave_days, 0)
    end as active_days,
    attributes_as_of.job_role,
    attributes_as_of.manager_employee_id,
    attributes_as_of.region,
    attributes_as_of.pay_currency,
    attributes_as_of.target_incentive_annual,
    candidate_assignments.assignment_id,
    candidate_assignments.plan_id,
    plan_versions.plan_version
from attributes_as_of
inner join candidate_assignments
    on attributes_as_of.employee_id = candidate_assignments.employee_id
    and attributes_as_of.month_start = candidate_assignments.month_start
    and candidate_assignments.assignment_rank = 1
left join plan_versions
    on candidate_assignments.plan_id = plan_versions.plan_id
    and attributes_as_of.as_of_date between plan_versions.effective_from
        and coalesce(plan_versions.effective_to, {{ end_of_time() }})
inner join employed_days
    on attributes_as_of.employee_id = employed_days.employee_id
    and attributes_as_of.month_start = employed_days.month_start
left join unpaid_leave_days
    on attributes_as_of.employee_id = unpaid_leave_days.employee_id
    and attributes_as_of.month_start = unpaid_leave_days.month_start
