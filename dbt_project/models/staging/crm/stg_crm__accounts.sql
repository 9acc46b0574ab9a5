with latest as (
    {{ latest_version(source('crm', 'crm__accounts'), ['account_id'], 'last_modified') }}
)

select
    account_id,
    account_name,
    segment,
    region,
    owner_user_id,
    created_date,
    last_modified as last_modified_at,
    _load_id as load_id
from latest
