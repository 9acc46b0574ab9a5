-- Prior-period adjustments (docs/month-close.md): a closed month's published lines never change. When the
-- engine, run again, computes a closed month differently - a back-dated CRM row, a retroactive quota, HR or
-- FX correction, a new plan version covering it - the difference is paid in the first later month that is not
-- closed:
--   adjustment = what the closed month computes to now
--              - what was paid for it (its published lines + prior-period adjustments already published for it)
-- per payee x closed month x ledger subject (the payee credit, or the period-level line: rate cap, payout cap,
-- draw, draw recovery) x currency. Each line says which month it adjusts, the source key and what changed:
--   adjustment_reversed  the month computes again to what its own published lines paid (the correction was
--                    undone, or the month was reopened and republished), so earlier adjustments are reversed
--   deal_unwon       paid before, no longer computed, and the opportunity is no longer won
--   credit_moved     paid before, no longer computed for this payee (owner, split or hierarchy changed)
--   credit_added     computed now, never paid (back-dated deal, owner or split change)
--   plan_changed     the plan or plan version behind the lines changed
--   amount_changed   the credit amount changed
--   quota_changed    the period's quota changed
--   fx_rate_changed  the conversion rate changed
--   rerated          anything else (other credits in the period, attainment-driven caps and draws)
-- Grain: one row per ledger_line_id (employee x target month x adjusted month x subject x currency).
{%- set ledger_types = ledger_column_types() %}
{%- set published_columns = {} %}
{%- for column in [
    'employee_id', 'payout_month', 'adjusted_month', 'ledger_subject', 'currency_code', 'entry_type', 'amount',
    'plan_id', 'plan_version', 'quota_amount', 'credit_amount_deal_currency', 'fx_rate',
] %}
    {%- do published_columns.update({column: ledger_types[column]}) %}
{%- endfor %}
with closed_months as (
    select payout_month
    from {{ ref('int_closed_months') }}
),

target_months as (
    -- each closed month's adjustments go to the first later month that is not closed
    select
        closed_months.payout_month as adjusted_month,
        min(calendar.month_start) as payout_month
    from closed_months
    inner join {{ ref('int_calendar_months') }} as calendar
        on calendar.month_start > closed_months.payout_month
    left join closed_months as closed_later
        on calendar.month_start = closed_later.payout_month
    where closed_later.payout_month is null
    group by closed_months.payout_month
),

recomputed_lines as (
    select lines.*
    from {{ ref('int_ledger_lines') }} as lines
    inner join closed_months
        on lines.payout_month = closed_months.payout_month
),

recomputed as (
    select
        employee_id,
        payout_month as adjusted_month,
        ledger_subject,
        currency_code,
        sum(amount) as amount,
        max(plan_id) as plan_id,
        max(plan_version) as plan_version,
        max(quota_period) as quota_period,
        max(period_start) as period_start,
        max(opportunity_id) as opportunity_id,
        max(split_id) as split_id,
        max(payee_credit_id) as payee_credit_id,
        max(credit_type) as credit_type,
        max(rollup_level) as rollup_level,
        max(credited_rep_employee_id) as credited_rep_employee_id,
        max(close_date) as close_date,
        max(deal_currency) as deal_currency,
        max(credit_amount_deal_currency) as credit_amount_deal_currency,
        max(fx_rate) as fx_rate,
        max(fx_rate_date) as fx_rate_date,
        max(credit_amount) as credit_amount,
        max(quota_amount) as quota_amount
    from recomputed_lines
    group by employee_id, payout_month, ledger_subject, currency_code
),

published_lines as (
    select
        employee_id,
        payout_month,
        coalesce(adjusted_month, payout_month) as adjusted_month,
        adjusted_month is not null as is_prior_period_adjustment,
        ledger_subject,
        currency_code,
        entry_type,
        amount,
        plan_id,
        plan_version,
        quota_amount,
        credit_amount_deal_currency,
        fx_rate
    from {{ published_state_relation(source('published', 'commission_ledger'), published_columns) }} as published
    where entry_type <> 'payout'
),

paid as (
    -- what was paid for each closed month: lines of closed months only (a reopened month's rows are about to be
    -- replaced, so adjustments it carried are booked again); the "was" attributes come from the closed month's
    -- own published lines
    select
        published_lines.employee_id,
        published_lines.adjusted_month,
        published_lines.ledger_subject,
        published_lines.currency_code,
        sum(published_lines.amount) as amount,
        sum(case when is_prior_period_adjustment then published_lines.amount else 0 end) as adjustments_amount,
        max(case when not is_prior_period_adjustment then plan_id end) as plan_id,
        max(case when not is_prior_period_adjustment then plan_version end) as plan_version,
        max(case when not is_prior_period_adjustment then quota_amount end) as quota_amount,
        max(case when not is_prior_period_adjustment then credit_amount_deal_currency end)
            as credit_amount_deal_currency,
        max(case when not is_prior_period_adjustment then fx_rate end) as fx_rate
    from published_lines
    inner join closed_months
        on published_lines.adjusted_month = closed_months.payout_month
    inner join closed_months as closed_published_months
        on published_lines.payout_month = closed_published_months.payout_month
    group by published_lines.employee_id, published_lines.adjusted_month, published_lines.ledger_subject,
        published_lines.currency_code
),

compared as (
    select
        coalesce(recomputed.employee_id, paid.employee_id) as employee_id,
        coalesce(recomputed.adjusted_month, paid.adjusted_month) as adjusted_month,
        coalesce(recomputed.ledger_subject, paid.ledger_subject) as ledger_subject,
        coalesce(recomputed.currency_code, paid.currency_code) as currency_code,
        cast(coalesce(paid.amount, 0) as decimal(18, 2)) as paid_amount,
        cast(coalesce(recomputed.amount, 0) as decimal(18, 2)) as recomputed_amount,
        cast(coalesce(paid.adjustments_amount, 0) as decimal(18, 2)) as paid_adjustments_amount,
        recomputed.employee_id is not null as is_computed_now,
        paid.employee_id is not null as was_paid,
        coalesce(recomputed.plan_id, paid.plan_id) as plan_id,
        coalesce(recomputed.plan_version, paid.plan_version) as plan_version,
        paid.plan_id as paid_plan_id,
        paid.plan_version as paid_plan_version,
        paid.quota_amount as paid_quota_amount,
        paid.credit_amount_deal_currency as paid_credit_amount_deal_currency,
        paid.fx_rate as paid_fx_rate,
        recomputed.quota_period,
        recomputed.period_start,
        recomputed.split_id,
        recomputed.payee_credit_id,
        recomputed.credit_type,
        recomputed.rollup_level,
        recomputed.credited_rep_employee_id,
        recomputed.close_date,
        recomputed.deal_currency,
        recomputed.credit_amount_deal_currency,
        recomputed.fx_rate,
        recomputed.fx_rate_date,
        recomputed.credit_amount,
        recomputed.quota_amount
    from recomputed
    full outer join paid
        on recomputed.employee_id = paid.employee_id
        and recomputed.adjusted_month = paid.adjusted_month
        and recomputed.ledger_subject = paid.ledger_subject
        and recomputed.currency_code = paid.currency_code
    where coalesce(recomputed.amount, 0) <> coalesce(paid.amount, 0)
),

current_opportunities as (
    select opportunity_id, is_won
    from {{ ref('stg_crm__opportunities') }}
),

classified as (
    -- a credit line's subject is its payee credit id, which starts with the opportunity id
    select
        compared.*,
        subject_opportunity.opportunity_id,
        case
            when compared.paid_adjustments_amount <> 0
                and compared.recomputed_amount = compared.paid_amount - compared.paid_adjustments_amount
                then 'adjustment_reversed'
            when not compared.is_computed_now and subject_opportunity.is_won = false then 'deal_unwon'
            when not compared.is_computed_now then 'credit_moved'
            when not compared.was_paid then 'credit_added'
            when compared.plan_id <> compared.paid_plan_id or compared.plan_version <> compared.paid_plan_version
                then 'plan_changed'
            when compared.credit_amount_deal_currency <> compared.paid_credit_amount_deal_currency
                then 'amount_changed'
            when compared.quota_amount <> compared.paid_quota_amount then 'quota_changed'
            when compared.fx_rate <> compared.paid_fx_rate then 'fx_rate_changed'
            else 'rerated'
        end as change_reason
    from compared
    left join current_opportunities as subject_opportunity
        on subject_opportunity.opportunity_id = {{ dbt.split_part('compared.ledger_subject', "':'", 1) }}
)

select
    {{ dbt.concat([
        "classified.employee_id", "':'", to_text('target_months.payout_month'), "':ppa:'",
        to_text('classified.adjusted_month'), "':'", "classified.ledger_subject", "':'", "classified.currency_code",
    ]) }} as ledger_line_id,
    target_months.payout_month,
    classified.employee_id,
    'prior_period_adjustment' as entry_type,
    'prior_period_adjustment' as rule_type,
    classified.change_reason,
    classified.plan_id,
    classified.plan_version,
    classified.quota_period,
    classified.period_start,
    {{ ledger_nulls(['segment_start', 'segment_end']) }},
    classified.opportunity_id,
    classified.split_id,
    {{ ledger_nulls(['invoice_id']) }},
    classified.payee_credit_id,
    classified.credit_type,
    classified.rollup_level,
    classified.credited_rep_employee_id,
    classified.close_date,
    {{ ledger_nulls(['tier_method', 'tier_number', 'rate', 'bonus_id']) }},
    classified.deal_currency,
    classified.credit_amount_deal_currency,
    classified.fx_rate,
    classified.fx_rate_date,
    classified.credit_amount,
    classified.quota_amount,
    {{ ledger_nulls(['attainment_before', 'attainment_after']) }},
    classified.paid_amount as amount_before,
    classified.recomputed_amount as amount_after,
    classified.currency_code as segment_currency_code,
    cast(classified.recomputed_amount - classified.paid_amount as decimal(18, 2)) as amount_in_segment_currency,
    cast(1 as decimal(18, 8)) as booking_fx_rate,
    cast(classified.recomputed_amount - classified.paid_amount as decimal(18, 2)) as amount,
    classified.currency_code,
    {{ dbt.concat([
        "'Prior-period adjustment for '", to_text('classified.adjusted_month'), "' (closed): '",
        "case when classified.opportunity_id is not null then 'credit ' || classified.ledger_subject"
        ~ " else 'the ' || classified.ledger_subject || ' line' end",
        "' was paid '", to_text('classified.paid_amount'), "' '", "classified.currency_code",
        "' and computes to '", to_text('classified.recomputed_amount'), "' now, because '",
        "case classified.change_reason"
        ~ " when 'adjustment_reversed' then 'it computes again to what its own published lines paid (the"
        ~ " correction was undone, or the month was republished), so the earlier prior-period adjustment of ' || "
        ~ to_text('classified.paid_adjustments_amount') ~ " || ' is reversed'"
        ~ " when 'deal_unwon' then 'the opportunity is no longer won'"
        ~ " when 'credit_moved' then 'the credit no longer goes to this payee (owner, split or hierarchy changed)'"
        ~ " when 'credit_added' then 'the credit now goes to this payee (back-dated deal, owner or split change)'"
        ~ " when 'plan_changed' then 'the plan changed from ' || coalesce(classified.paid_plan_id || '.v' || "
        ~ to_text('classified.paid_plan_version') ~ ", '-') || ' to ' || coalesce(classified.plan_id || '.v' || "
        ~ to_text('classified.plan_version') ~ ", '-')"
        ~ " when 'amount_changed' then 'the credit amount changed from ' || "
        ~ to_text('classified.paid_credit_amount_deal_currency') ~ " || ' to ' || "
        ~ to_text('classified.credit_amount_deal_currency') ~ " || ' ' || coalesce(classified.deal_currency, '')"
        ~ " when 'quota_changed' then 'the quota changed from ' || " ~ to_text('classified.paid_quota_amount')
        ~ " || ' to ' || " ~ to_text('classified.quota_amount')
        ~ " when 'fx_rate_changed' then 'the FX rate changed from ' || " ~ to_text('classified.paid_fx_rate')
        ~ " || ' to ' || " ~ to_text('classified.fx_rate')
        ~ " else 'the period was re-rated (other credits, attainment, cap or draw changed)' end",
        "'; the difference of '", to_text('classified.recomputed_amount - classified.paid_amount'), "' '",
        "classified.currency_code", "' is paid here.'",
    ]) }} as explanation,
    classified.ledger_subject,
    classified.adjusted_month
from classified
inner join target_months
    on classified.adjusted_month = target_months.adjusted_month
