select
    plan_id,
    plan_version,
    credit_type
from {{ source('plans', 'plans__plan_credit_types') }}
