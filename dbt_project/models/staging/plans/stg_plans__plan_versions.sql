select
    plan_id,
    plan_version,
    plan_name,
    description as plan_description,
    effective_from,
    effective_to,
    tier_method,
    quota_period,
    payout_cap_multiple,
    commission_threshold,
    attainment_cap,
    content_hash,
    _load_id as load_id
from {{ source('plans', 'plans__plan_versions') }}
