-- Invoice collection status as known at month ends: the last version of each invoice known in a month is its
-- state from that month until the month of its next change. Pay-on-invoice releases commission from the paid
-- invoices of a deal; uncollectible invoices trigger clawbacks (first_uncollectible_month is when the write-off
-- became known, which is what a plan's clawback window is measured against).
-- Grain: one row per invoice_id x known_from_month.
with versions as (
    select
        invoice_id, opportunity_id, customer_id, invoice_date, amount, currency_code, status, paid_at,
        last_modified_at,
        {{ month_start('last_modified_at') }} as known_month,
        row_number() over (
            partition by invoice_id, {{ month_start('last_modified_at') }}
            order by last_modified_at desc, load_id desc, source_row desc
        ) as rank_in_month
    from {{ ref('stg_billing__invoice_versions') }}
),

month_states as (
    select *
    from versions
    where rank_in_month = 1
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
        lead(month_states.known_month) over (
            partition by month_states.invoice_id order by month_states.known_month
        ) as known_to_month,
        first_uncollectible.first_uncollectible_month
    from month_states
    left join first_uncollectible
        on month_states.invoice_id = first_uncollectible.invoice_id
)

-- states of invoices not linked to a deal are dropped only now, so a link removed later ends the earlier state
select *
from states
where opportunity_id is not null
