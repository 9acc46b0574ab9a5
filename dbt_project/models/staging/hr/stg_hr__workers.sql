with latest as (
    {{ latest_version(source('hr', 'hr__workers'), ['employee_id', 'effective_from'], 'last_modified') }}
)

select
    employee_id,
    crm_user_id,
    full_name as employee_name,
    job_role,
    manager_employee_id,
    region,
    pay_currency,
    hire_date,
    termination_date,
    target_incentive_annual,
    effective_from,
    effective_to,
    last_modified as last_modified_at,
    _load_id as load_id
from latest
