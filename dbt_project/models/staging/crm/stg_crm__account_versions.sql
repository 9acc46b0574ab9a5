-- Every delivered version of every CRM account (deduplicated by version key by the loader).
-- Retention by rep needs the owner *at the time*, not today's owner, so history is kept here.
select
    account_id,
    account_name,
    segment,
    region,
    owner_user_id,
    created_date,
    last_modified as last_modified_at,
    _load_id as load_id
from {{ source('crm', 'crm__accounts') }}
