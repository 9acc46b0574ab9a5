-- When each plan segment is evaluated: at the end of every month it covers, and at every later month in which
-- something about one of its credits became known - a new credit version (amount edit, owner change, un-won,
-- late entry), an invoice status (only for plans that pay on invoices, convert at the invoice date or claw
-- back uncollectible invoices) or a churn inside the clawback window. Months after the horizon are not
-- evaluated. Grain: one row per segment_id x evaluation_month.
with segments as (
    select segment_id, segment_start_month, segment_end_month
    from {{ ref('int_plan_segments') }}
),

months as (
    select month_start
    from {{ ref('int_calendar_months') }}
),

segment_credits as (
    select segment_id, payee_credit_version_id, opportunity_id, known_from_month, known_to_month,
        follows_every_invoice_change, clawback_on_uncollectible, clawback_window_end_month,
        churn_month
    from {{ ref('int_segment_credits') }}
),

invoice_states as (
    select opportunity_id, known_from_month, first_uncollectible_month
    from {{ ref('int_invoice_states') }}
),

event_months as (
    select segment_id, known_from_month as evaluation_month
    from segment_credits
    union
    select segment_id, known_to_month as evaluation_month
    from segment_credits
    where known_to_month is not null
    union
    -- plans paid, counted or converted on invoices follow every invoice change; a plan that only claws back
    -- uncollectible invoices follows invoices written off inside its window, from the write-off on (so a
    -- write-off later reversed is re-evaluated too)
    select segment_credits.segment_id, invoice_states.known_from_month as evaluation_month
    from segment_credits
    inner join invoice_states
        on segment_credits.opportunity_id = invoice_states.opportunity_id
    where segment_credits.follows_every_invoice_change
        or (
            segment_credits.clawback_on_uncollectible
            and invoice_states.first_uncollectible_month <= segment_credits.clawback_window_end_month
            and invoice_states.known_from_month >= invoice_states.first_uncollectible_month
        )
    union
    select segment_id, churn_month as evaluation_month
    from segment_credits
    where churn_month is not null
    union
    select segments.segment_id, months.month_start as evaluation_month
    from segments
    inner join months
        on months.month_start between segments.segment_start_month and segments.segment_end_month
),

evaluations as (
    select distinct
        event_months.segment_id,
        event_months.evaluation_month
    from event_months
    inner join segments
        on event_months.segment_id = segments.segment_id
    inner join months
        on event_months.evaluation_month = months.month_start
    where event_months.evaluation_month >= segments.segment_start_month
)

select
    {{ dbt.concat(["segment_id", "'@'", to_text('evaluation_month')]) }} as segment_evaluation_id,
    segment_id,
    evaluation_month,
    lag(evaluation_month) over (partition by segment_id order by evaluation_month) as previous_evaluation_month,
    lead(evaluation_month) over (partition by segment_id order by evaluation_month) as next_evaluation_month
from evaluations
