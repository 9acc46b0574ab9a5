-- Effective-dated employee attributes as closed date ranges [valid_from, valid_to].
-- A row ends the day before the next row starts (or at its own effective_to); the employment dates
-- (hire, termination) come from the employee's latest row, because HR re-exports that row on termination -
-- except for rows of an earlier, terminated employment of a rehired employee, which keep that spell's dates.
with workers as (
    select
        employee_id,
        crm_user_id,
        employee_name,
        job_role,
        manager_employee_id,
        region,
        pay_currency,
        hire_date,
        termination_date,
        target_incentive_annual,
        effective_from,
        effective_to
    from {{ ref('stg_hr__workers') }}
),

ranked as (
    select
        workers.*,
        lead(effective_from) over (partition by employee_id order by effective_from) as next_effective_from,
        row_number() over (partition by employee_id order by effective_from desc) as recency_rank
    from workers
),

latest_employment as (
    select employee_id, hire_date, termination_date
    from ranked
    where recency_rank = 1
),

earlier_employments as (
    -- a rehire under the same employee id: rows carrying an earlier hire date whose spell was terminated before
    -- the latest hire keep their own employment dates (other differing hire dates are corrections)
    select
        workers.employee_id,
        workers.hire_date,
        max(workers.termination_date) as termination_date
    from workers
    inner join latest_employment
        on workers.employee_id = latest_employment.employee_id
    where workers.hire_date < latest_employment.hire_date
    group by workers.employee_id, workers.hire_date, latest_employment.hire_date
    having max(workers.termination_date) < latest_employment.hire_date
)

select
    ranked.employee_id,
    ranked.effective_from as valid_from,
    coalesce(
        cast({{ dbt.dateadd('day', -1, 'ranked.next_effective_from') }} as date),
        ranked.effective_to,
        {{ end_of_time() }}
    ) as valid_to,
    ranked.crm_user_id,
    ranked.employee_name,
    ranked.job_role,
    ranked.manager_employee_id,
    ranked.region,
    ranked.pay_currency,
    ranked.target_incentive_annual,
    coalesce(earlier_employments.hire_date, latest_employment.hire_date) as hire_date,
    case when earlier_employments.employee_id is not null then earlier_employments.termination_date
        else latest_employment.termination_date end as termination_date
from ranked
inner join latest_employment
    on ranked.employee_id = latest_employment.employee_id
left join earlier_employments
    on ranked.employee_id = earlier_employments.employee_id
    and ranked.hire_date = earlier_employments.hire_date
