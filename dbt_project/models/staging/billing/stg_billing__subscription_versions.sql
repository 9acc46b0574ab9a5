-- Every delivered version of every subscription (deduplicated by version key by the loader).
-- Retention needs the history, not just the latest state: a contraction must lower ARR from the day it
-- happened, not from the subscription's start.
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
from {{ source('billing', 'billing__subscriptions') }}
