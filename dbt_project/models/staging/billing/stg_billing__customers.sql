with latest as (
    {{ latest_version(source('billing', 'billing__customers'), ['customer_id'], 'last_modified') }}
)

select
    customer_id,
    crm_account_id as account_id,
    customer_name,
    currency as currency_code,
    created_at,
    last_modified as last_modified_at,
    _load_id as load_id
from latest
