with latest as (
    {{ latest_version(source('crm', 'crm__opportunity_splits'), ['split_id'], 'last_modified') }}
)

select
    split_id,
    opportunity_id,
    user_id,
    split_type,
    split_percent,
    is_deleted,
    last_modified as last_modified_at,
    _load_id as load_id
from latest
