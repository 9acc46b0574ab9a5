-- assignments.yaml is loaded as whole snapshots; only the most recent snapshot is in force.
with latest_snapshot as (
    select _load_id
    from {{ source('plans', 'plans__assignments') }}
    order by _loaded_at desc, _load_id desc
    limit 1
)

select
    assignments.assignment_id,
    assignments.match_job_role,
    assignments.match_employee_id,
    assignments.plan_id,
    assignments.effective_from,
    assignments.effective_to,
    assignments._load_id as load_id
from {{ source('plans', 'plans__assignments') }} as assignments
inner join latest_snapshot
    on assignments._load_id = latest_snapshot._load_id
