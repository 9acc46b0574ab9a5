with latest as (
    {{ latest_version(source('hr', 'hr__leaves'), ['leave_id'], 'last_modified') }}
)

select
    leave_id,
    employee_id,
    leave_type,
    is_paid,
    start_date,
    end_date,
    last_modified as last_modified_at,
    _load_id as load_id
from latest
