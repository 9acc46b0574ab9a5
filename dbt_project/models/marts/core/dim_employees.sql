{{ config(post_hook="{{ payee_row_security() }}") }}
-- depends_on: {{ ref('team_members_monthly') }}
-- Employees with their current (latest effective) HR attributes; the conformed rep dimension.
-- Grain: one row per employee_id.
with current_rows as (
    select
        history.*,
        row_number() over (partition by employee_id order by valid_from desc) as recency_rank
    from {{ ref('int_employee_history') }} as history
)

select
    employee_id,
    crm_user_id,
    employee_name,
    job_role,
    manager_employee_id,
    region,
    pay_currency,
    target_incentive_annual,
    hire_date,
    termination_date,
    termination_date is not null as is_terminated
from current_rows
where recency_rank = 1
