with latest as (
    {{ latest_version(source('billing', 'billing__invoices'), ['invoice_id'], 'last_modified') }}
)

select
    invoice_id,
    customer_id,
    subscription_id,
    crm_opportunity_id as opportunity_id,
    invoice_date,
    due_date,
    amount,
    currency as currency_code,
    status,
    paid_at,
    last_modified as last_modified_at,
    _load_id as load_id
from latest
