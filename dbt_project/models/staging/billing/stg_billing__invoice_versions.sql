-- Every delivered version of every invoice: collection status changes (paid, uncollectible, void) are known
-- from the version's last_modified, which is when pay-on-invoice releases and clawbacks happen.
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
    _load_id as load_id,
    _source_row as source_row
from {{ source('billing', 'billing__invoices') }}
