select
    plan_id,
    plan_version,
    tier_number,
    from_attainment,
    to_attainment,
    rate
from {{ source('plans', 'plans__plan_tiers') }}
