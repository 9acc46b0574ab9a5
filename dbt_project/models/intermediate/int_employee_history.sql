-- Effective-dated employee attributes as closed date ranges [valid_from, valid_to].
-- A row ends the day before the next row starts (or at its own effective_to); the employment dates
-- (hire, termination) come from the employee's latest row, because HR re-exports that row on termination.
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

employment as (
    select
        employee_id,
        hire_date,
        termination_date
    from ranked
    where recency_rank = 1
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
    employment.hire_date,
    employment.termination_date
from ranked
inner join employment
    on ranked.employee_id = employment.employee_id
