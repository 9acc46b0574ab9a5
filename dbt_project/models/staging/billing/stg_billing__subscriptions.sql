with latest as (
    {{ latest_version(source('billing', 'billing__subscriptions'), ['subscription_id'], 'last_modified') }}
)

select
    subscription_id,
    customer_id,
    crm_opportunity_id as opportunity_id,
    status,
    start_date,
    end_date,
    billing_interval,
    recurring_amount,
    currency as currency_code,
    last_modified as last_modified_at,
    _load_id as load_id
from latest
