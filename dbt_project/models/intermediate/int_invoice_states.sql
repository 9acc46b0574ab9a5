-- Invoice collection status as known at month ends: the last version of each invoice known in a month is its
-- state from that month until the month of its next change. Pay-on-invoice releases commission from the paid
-- invoices of a deal; uncollectible invoices trigger clawbacks (first_uncollectible_month is when the write-off
-- became known, which is what a plan's clawback window is measured against).
-- Grain: one row per invoice_id x known_from_month.
with month_states as (
    {{ knowledge_month_states(ref('stg_billing__invoice_versions'), 'invoice_id') }}
),

first_uncollectible as (
    select invoice_id, min(known_month) as first_uncollectible_month
    from month_states
    where status = 'uncollectible'
    group by invoice_id
),

states as (
    select
        month_states.invoice_id,
        month_states.opportunity_id,
        month_states.customer_id,
        month_states.invoice_date,
        month_states.amount,
        month_states.currency_code,
        month_states.status,
        month_states.paid_at,
        month_states.known_month as known_from_month,
        month_states.next_known_month as known_to_month,
        first_uncollectible.first_uncollectible_month
    from month_states
    left join first_uncollectible
        on month_states.invoice_id = first_uncollectible.invoice_id
)

-- states of invoices not linked to a deal are dropped only now, so a link removed later ends the earlier state
select *
from states
where opportunity_id is not null
