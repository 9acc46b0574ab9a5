{{
    config(
        materialized=engine_materialization(),
        incremental_strategy='append',
        pre_hook="{{ delete_rebuilt_months('payout_month') }}",
        post_hook=[
            "{{ create_incremental_state() }}",
            "{{ forget_seen_loads_after_full_rebuild() }}",
            "{{ record_seen_loads() }}",
        ],
    )
}}
-- Every ledger line the engine computes for every month, except the payout line: the entries of
-- int_commission_entries, the payout cap, draw and draw-recovery lines, each with its explanation sentence.
-- fct_commission_ledger publishes a month of these (plus prior-period adjustments and the payout line), and
-- int_prior_period_adjustments compares closed months' lines with what was published for them.
-- `ledger_subject` is what a line is about, stable across recomputations: the payee credit (opportunity,
-- split, roll-up level) for credit lines, the entry type for period-level lines (rate cap, payout cap, draws).
-- Grain: one row per ledger_line_id.
with entries as (
    select *
    from {{ ref('int_commission_entries') }}
    -- incremental: only the months new data can change (macros/incremental_rebuild.sql)
    where {{ rebuild_filter('payout_month') }}
),

entry_lines as (
    select
        entry_id as ledger_line_id,
        payout_month,
        employee_id,
        entry_type,
        rule_type,
        change_reason,
        plan_id,
        plan_version,
        quota_period,
        period_start,
        segment_start,
        segment_end,
        opportunity_id,
        split_id,
        invoice_id,
        payee_credit_id,
        credit_type,
        rollup_level,
        credited_rep_employee_id,
        close_date,
        tier_method,
        tier_number,
        rate,
        bonus_id,
        deal_currency,
        credit_amount_deal_currency,
        fx_rate,
        fx_rate_date,
        credit_amount,
        quota_amount,
        attainment_before,
        attainment_after,
        amount_before,
        amount_after,
        segment_currency_code,
        amount_in_segment_currency,
        booking_fx_rate,
        amount,
        currency_code,
        {{ dbt.concat([
            "case entry_type when 'earning' then 'Earned' when 'bonus' then 'Bonus' when 'true_up' then 'True-up'"
            ~ " when 'adjustment' then 'Adjustment' when 'clawback' then 'Clawback' else 'Rate cap' end",
            "case when rule_type = 'tier' then ': tier ' || " ~ to_text('tier_number') ~ " || ' ('"
            ~ " || " ~ to_text('cast(rate * 100 as decimal(9, 4))') ~ " || '%, ' || tier_method || ')'"
            ~ " when rule_type = 'bonus' then ': bonus ' || bonus_id"
            ~ " else ': effective rate capped at ' || " ~ to_text('cast(rate * 100 as decimal(9, 4))') ~ " || '%' end",
            "' of the ' || quota_period || ' period from ' || " ~ to_text('period_start'),
            "case when opportunity_id is not null then ' on ' || credit_type || ' credit from opportunity ' || opportunity_id"
            ~ " || coalesce(' split ' || split_id, '') || ' (' || " ~ to_text('split_percent') ~ " || '%)'"
            ~ " || case when rollup_level > 0 then ' via ' || credited_rep_employee_id else '' end"
            ~ " || ', closed ' || " ~ to_text('close_date')
            ~ " || ', ' || " ~ to_text('credit_amount_deal_currency') ~ " || ' ' || deal_currency"
            ~ " || ' at ' || " ~ to_text('fx_rate') ~ " || ' (' || " ~ to_text('fx_rate_date') ~ " || ')'"
            ~ " else '' end",
            "case change_reason"
            ~ " when 'amount_changed' then '; credit changed from ' || " ~ to_text('previous_credit_amount_deal_currency')
            ~ " || ' ' || deal_currency || ' (amount or split edited)'"
            ~ " when 'credit_removed' then '; credit no longer counts (deal un-won, reassigned or split removed)'"
            ~ " when 'booked_late' then '; first counted for this payee in ' || " ~ to_text('payout_month')
            ~ " || ', after its close month (entered late or reassigned)'"
            ~ " when 'close_date_changed' then '; close date changed'"
            ~ " when 'churn' then '; customer churned in ' || " ~ to_text('churn_month') ~ " || ', inside the clawback window'"
            ~ " when 'uncollectible_invoice' then '; ' || " ~ to_text('cast(clawback_fraction * 100 as decimal(9, 2))')
            ~ " || '% of the deal written off as uncollectible (invoice ' || coalesce(invoice_id, '?') || ')'"
            ~ " when 'invoice_paid' then '; ' || " ~ to_text('cast(release_fraction * 100 as decimal(9, 2))')
            ~ " || '% released: ' || " ~ to_text('paid_amount') ~ " || ' of ' || " ~ to_text('deal_amount') ~ " || ' paid'"
            ~ " when 'clawback_reversed' then '; an earlier clawback is reversed (write-off recovered)'"
            ~ " when 'invoice_reversed' then '; paid invoices reduced (credit note) to ' || "
            ~ to_text('cast(release_fraction * 100 as decimal(9, 2))') ~ " || '% of the deal'"
            ~ " when 'fx_rate_changed' then '; converted at the invoice-date rate'"
            ~ " when 'rerated' then " ~ string_literal("; re-rated: the period's credit, quota or threshold changed")
            ~ " else '' end",
            "case when attainment_after is not null then '; attainment ' || "
            ~ to_text('cast(' ~ exact_product('attainment_before', '100') ~ ' as decimal(18, 2))')
            ~ " || '% -> ' || "
            ~ to_text('cast(' ~ exact_product('attainment_after', '100') ~ ' as decimal(18, 2))')
            ~ " || '%' else '' end",
            "case when is_below_threshold then '; NOT PAID: period attainment is below the plan threshold of ' || "
            ~ to_text('cast(commission_threshold * 100 as decimal(9, 2))') ~ " || '% (would pay ' || "
            ~ to_text('would_be_amount') ~ " || ')' else '' end",
            "'. Was ' || " ~ to_text('amount_before') ~ " || ', now ' || " ~ to_text('amount_after')
            ~ " || ' ' || segment_currency_code || '.'",
            "case when segment_currency_code <> currency_code then ' Booked as ' || " ~ to_text('amount')
            ~ " || ' ' || currency_code || ' at ' || " ~ to_text('booking_fx_rate')
            ~ " || ' (the pay currency changed).' else '' end",
        ]) }} as explanation
    from entries
),

caps as (
    select *
    from {{ ref('int_commission_caps') }}
    where cap_adjustment_amount < 0
        and {{ rebuild_filter('payout_month') }}
),

draws as (
    select *
    from {{ ref('int_draw_balances') }}
    where {{ rebuild_filter('payout_month') }}
),

other_lines as (
    select
        {{ dbt.concat(["employee_id", "':'", to_text('payout_month'), "':payout_cap'"]) }} as ledger_line_id,
        payout_month,
        employee_id,
        'payout_cap' as entry_type,
        'payout_cap' as rule_type,
        plan_id,
        plan_version,
        pay_currency as currency_code,
        commission_amount as amount_before,
        cap_amount as amount_after,
        cap_adjustment_amount as amount,
        {{ dbt.concat([
            "'Payout cap: '", to_text('payout_cap_multiple'), "'x monthly target incentive = '",
            to_text('cap_amount'), "' '", "pay_currency", string_literal("; the month's commission of "),
            to_text('commission_amount'), "' is reduced by '", to_text('-cap_adjustment_amount'),
            "' (the excess is forfeited).'",
        ]) }} as explanation
    from caps

    union all

    select
        {{ dbt.concat(["employee_id", "':'", to_text('payout_month'), "':draw'"]) }} as ledger_line_id,
        payout_month,
        employee_id,
        'draw' as entry_type,
        'draw' as rule_type,
        {{ ledger_nulls(['plan_id', 'plan_version']) }},
        pay_currency as currency_code,
        earnings_amount as amount_before,
        draw_amount as amount_after,
        draw_paid_amount as amount,
        {{ dbt.concat([
            "'Draw ('", "draw_kind", "'): month earnings of '", to_text('earnings_amount'),
            "' topped up to the draw of '", to_text('draw_amount'), "' '", "pay_currency",
            "'; balance to recover '", to_text('balance_before'), "' -> '", to_text('balance_after'), "'.'",
        ]) }} as explanation
    from draws
    where draw_paid_amount > 0

    union all

    select
        {{ dbt.concat(["employee_id", "':'", to_text('payout_month'), "':draw_recovery'"]) }} as ledger_line_id,
        payout_month,
        employee_id,
        'draw_recovery' as entry_type,
        'draw_recovery' as rule_type,
        {{ ledger_nulls(['plan_id', 'plan_version']) }},
        pay_currency as currency_code,
        balance_before as amount_before,
        balance_after as amount_after,
        cast(-recovery_amount as decimal(18, 2)) as amount,
        {{ dbt.concat([
            "'Draw recovery: '", to_text('recovery_amount'), "' '", "pay_currency",
            "' of the outstanding draw balance '", to_text('balance_before'),
            "' recovered from earnings of '", to_text('earnings_amount'), string_literal(" above the month's draw of "),
            to_text('draw_amount'), "'; balance now '", to_text('balance_after'), "'.'",
        ]) }} as explanation
    from draws
    where recovery_amount > 0
),

non_payout_lines as (
    select {{ ledger_line_columns(exclude=['ledger_subject', 'adjusted_month']) }} from entry_lines
    union all
    select
        ledger_line_id, payout_month, employee_id, entry_type, rule_type,
        {{ ledger_nulls(['change_reason']) }}, plan_id, plan_version,
        {{ ledger_nulls([
            'quota_period', 'period_start', 'segment_start', 'segment_end', 'opportunity_id', 'split_id',
            'invoice_id', 'payee_credit_id', 'credit_type', 'rollup_level', 'credited_rep_employee_id', 'close_date',
            'tier_method', 'tier_number', 'rate', 'bonus_id', 'deal_currency', 'credit_amount_deal_currency',
            'fx_rate', 'fx_rate_date', 'credit_amount', 'quota_amount', 'attainment_before', 'attainment_after',
        ]) }},
        amount_before, amount_after, currency_code as segment_currency_code, amount as amount_in_segment_currency,
        cast(1 as decimal(18, 8)) as booking_fx_rate, amount, currency_code, explanation
    from other_lines
)

select
    {{ ledger_line_columns(exclude=['ledger_subject', 'adjusted_month']) }},
    coalesce(payee_credit_id, entry_type) as ledger_subject,
    {{ ledger_nulls(['adjusted_month']) }}
from non_payout_lines
