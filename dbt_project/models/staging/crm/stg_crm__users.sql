with latest as (
    {{ latest_version(source('crm', 'crm__users'), ['user_id'], 'last_modified') }}
)

select
    user_id,
    full_name as user_name,
    email as user_email,
    is_active,
    last_modified as last_modified_at,
    _load_id as load_id
from latest
