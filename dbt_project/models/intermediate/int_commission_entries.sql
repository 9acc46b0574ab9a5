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
-- Commission entries: what each plan segment pays in each month, as the difference between the rule amounts
-- of two consecutive evaluations (docs/compensation-engine.md, "evaluate, then book the difference"):
--   amount = amount at this evaluation - amount at the previous evaluation of the same segment
-- Rows that did not change are not entries. The entry type says why the amount moved, first match wins:
--   rate_cap    the segment's rate-cap row moved
--   clawback    a credit counted before and now was written off further (uncollectible invoice) or its customer
--               churned, inside the window
--   adjustment  the credit's source state changed (amount, close date), it stopped counting (un-won,
--               reassigned, split removed), it was first counted after its close month (late booking or a
--               reassignment to this payee), paid invoices were reversed (a credit note) or a write-off was
--               reversed (the invoice was paid after all)
-- A rule held back by the plan threshold is booked once as a zero line, so the rep can see what it would pay.
--   earning     first counted in its close month, or released or counted by an invoice payment on a plan that
--               pays or counts on payment ('bonus' for bonus rules)
--   true_up     anything else: re-rated because other credits, the quota, the threshold or the FX rate moved
-- Grain: one row per entry_id (segment x month x rule key).
with evaluations as (
    select segment_id, evaluation_month, previous_evaluation_month, next_evaluation_month
    from {{ ref('int_segment_evaluations') }}
    -- incremental: the months new data can change, and the evaluations just before them that their entries
    -- are measured from (macros/incremental_rebuild.sql)
    where {{ rebuild_filter('evaluation_month') }} or {{ rebuild_filter('next_evaluation_month') }}
),

amounts as (
    select
        amounts.segment_id, amounts.evaluation_month, amounts.rule_key, amounts.rule_type, amounts.payee_credit_id,
        amounts.tier_number, amounts.bonus_id, amounts.rate, amounts.credit_in_tier, amounts.is_below_threshold,
        amounts.earned_amount, amounts.would_be_amount, amounts.amount
    from {{ ref('int_commission_evaluation_amounts') }} as amounts
    inner join evaluations
        on amounts.segment_id = evaluations.segment_id
        and amounts.evaluation_month = evaluations.evaluation_month
),

credits as (
    select evaluation_credits.*
    from {{ ref('int_commission_evaluation_credits') }} as evaluation_credits
    inner join evaluations
        on evaluation_credits.segment_id = evaluations.segment_id
        and evaluation_credits.evaluation_month = evaluations.evaluation_month
),

segments as (
    select
        segment_id, employee_id, plan_id, plan_version, quota_period, period_start, period_end, segment_start,
        segment_end, quota_amount, pay_currency
    from {{ ref('int_plan_segments') }}
),

plan_versions as (
    select plan_id, plan_version, tier_method, commission_threshold
    from {{ ref('stg_plans__plan_versions') }}
),

movements as (
    select segment_id, evaluation_month as entry_month, rule_key, cast(0 as decimal(18, 2)) as amount_before,
        amount as amount_after, 0 as present_before, case when is_below_threshold then 1 else 0 end as held_now
    from amounts
    union all
    select amounts.segment_id, evaluations.next_evaluation_month as entry_month, amounts.rule_key,
        amounts.amount as amount_before, cast(0 as decimal(18, 2)) as amount_after, 1 as present_before,
        0 as held_now
    from amounts
    inner join evaluations
        on amounts.segment_id = evaluations.segment_id
        and amounts.evaluation_month = evaluations.evaluation_month
    where evaluations.next_evaluation_month is not null
),

deltas as (
    select
        movements.segment_id,
        movements.entry_month,
        movements.rule_key,
        cast(sum(movements.amount_before) as decimal(18, 2)) as amount_before,
        cast(sum(movements.amount_after) as decimal(18, 2)) as amount_after
    from movements
    where {{ rebuild_filter('movements.entry_month') }}
    group by movements.segment_id, movements.entry_month, movements.rule_key
    -- a zero line is still booked once when a rule first appears held back by the threshold, so the rep sees
    -- what it would pay
    having sum(movements.amount_after) <> sum(movements.amount_before)
        or (sum(movements.held_now) > 0 and sum(movements.present_before) = 0)
),

with_rows as (
    select
        deltas.*,
        evaluations.previous_evaluation_month,
        coalesce(current_amounts.rule_type, previous_amounts.rule_type) as rule_type,
        coalesce(current_amounts.payee_credit_id, previous_amounts.payee_credit_id) as payee_credit_id,
        coalesce(current_amounts.tier_number, previous_amounts.tier_number) as tier_number,
        coalesce(current_amounts.bonus_id, previous_amounts.bonus_id) as bonus_id,
        coalesce(current_amounts.rate, previous_amounts.rate) as rate,
        current_amounts.credit_in_tier,
        current_amounts.would_be_amount,
        coalesce(current_amounts.is_below_threshold, false) as is_below_threshold
    from deltas
    inner join evaluations
        on deltas.segment_id = evaluations.segment_id
        and deltas.entry_month = evaluations.evaluation_month
    left join amounts as current_amounts
        on deltas.segment_id = current_amounts.segment_id
        and deltas.entry_month = current_amounts.evaluation_month
        and deltas.rule_key = current_amounts.rule_key
    left join amounts as previous_amounts
        on deltas.segment_id = previous_amounts.segment_id
        and evaluations.previous_evaluation_month = previous_amounts.evaluation_month
        and deltas.rule_key = previous_amounts.rule_key
),

with_credits as (
    select
        with_rows.*,
        current_credits.payee_credit_id is not null as is_counted_now,
        previous_credits.payee_credit_id is not null as was_counted_before,
        coalesce(current_credits.credit_line_id, previous_credits.credit_line_id) as credit_line_id,
        coalesce(current_credits.opportunity_id, previous_credits.opportunity_id) as opportunity_id,
        coalesce(current_credits.split_id, previous_credits.split_id) as split_id,
        coalesce(current_credits.split_percent, previous_credits.split_percent) as split_percent,
        coalesce(current_credits.credit_type, previous_credits.credit_type) as credit_type,
        coalesce(current_credits.rollup_level, previous_credits.rollup_level) as rollup_level,
        coalesce(current_credits.credited_rep_employee_id, previous_credits.credited_rep_employee_id)
            as credited_rep_employee_id,
        coalesce(current_credits.close_date, previous_credits.close_date) as close_date,
        coalesce(current_credits.credit_month, previous_credits.credit_month) as credit_month,
        coalesce(current_credits.deal_currency, previous_credits.deal_currency) as deal_currency,
        coalesce(current_credits.credit_amount_deal_currency, previous_credits.credit_amount_deal_currency)
            as credit_amount_deal_currency,
        previous_credits.credit_amount_deal_currency as previous_credit_amount_deal_currency,
        coalesce(current_credits.fx_rate, previous_credits.fx_rate) as fx_rate,
        coalesce(current_credits.fx_rate_date, previous_credits.fx_rate_date) as fx_rate_date,
        coalesce(current_credits.credit_amount, previous_credits.credit_amount) as credit_amount,
        current_credits.counted_credit_amount,
        current_credits.paid_invoice_id,
        current_credits.written_off_invoice_id,
        current_credits.changed_invoice_id,
        current_credits.churn_month,
        coalesce(current_credits.churn_month <= with_rows.entry_month, false) as is_churned_now,
        coalesce(previous_credits.churn_month <= with_rows.previous_evaluation_month, false) as was_churned_before,
        coalesce(current_credits.uncollectible_amount, 0) as uncollectible_amount,
        coalesce(previous_credits.uncollectible_amount, 0) as previous_uncollectible_amount,
        coalesce(current_credits.pay_basis, previous_credits.pay_basis) = 'invoice_paid'
            or coalesce(current_credits.attainment_basis, previous_credits.attainment_basis) = 'invoice_paid'
            as pays_or_counts_on_invoices,
        coalesce(current_credits.clawback_fraction, 0) as clawback_fraction,
        coalesce(previous_credits.clawback_fraction, 0) as previous_clawback_fraction,
        coalesce(current_credits.release_fraction, previous_credits.release_fraction) as release_fraction,
        previous_credits.release_fraction as previous_release_fraction,
        current_credits.paid_amount,
        current_credits.deal_amount,
        previous_credits.close_date as previous_close_date,
        previous_credits.fx_rate as previous_fx_rate,
        -- where the credit sat in the period: now, or before it was removed or clawed back to nothing
        case when current_credits.counted_credit_amount > 0 or previous_credits.payee_credit_id is null
            then current_credits.cumulative_credit_before else previous_credits.cumulative_credit_before
        end as cumulative_credit_before,
        case when current_credits.counted_credit_amount > 0 or previous_credits.payee_credit_id is null
            then current_credits.cumulative_credit_after else previous_credits.cumulative_credit_after
        end as cumulative_credit_after
    from with_rows
    left join credits as current_credits
        on with_rows.segment_id = current_credits.segment_id
        and with_rows.entry_month = current_credits.evaluation_month
        and with_rows.payee_credit_id = current_credits.payee_credit_id
    left join credits as previous_credits
        on with_rows.segment_id = previous_credits.segment_id
        and with_rows.previous_evaluation_month = previous_credits.evaluation_month
        and with_rows.payee_credit_id = previous_credits.payee_credit_id
),

changes as (
    -- what happened to the credit between the two evaluations
    select
        with_credits.*,
        was_counted_before and is_counted_now
            and (
                (is_churned_now and not was_churned_before) or uncollectible_amount > previous_uncollectible_amount
            ) as is_clawed_back,
        was_counted_before and is_counted_now
            and ((was_churned_before and not is_churned_now) or uncollectible_amount < previous_uncollectible_amount)
            as is_clawback_reversed,
        pays_or_counts_on_invoices and release_fraction > previous_release_fraction as is_released,
        pays_or_counts_on_invoices and release_fraction < previous_release_fraction as is_payment_reversed
    from with_credits
),

booking_keys as (
    select distinct segments.employee_id, with_rows.entry_month as payout_month, segments.pay_currency
    from with_rows
    inner join segments
        on with_rows.segment_id = segments.segment_id
),

booking as (
    -- lines are booked in the currency the payee is paid in that month (as of the month's as-of date, or the
    -- latest HR row after termination); a line of a segment in another currency (the pay currency changed)
    -- converts at the booking month's end rate
    select
        booking_keys.employee_id,
        booking_keys.payout_month,
        booking_keys.pay_currency as segment_currency,
        coalesce(payee_months.pay_currency, latest_history.pay_currency) as payout_currency,
        {{ fx_rate(
            'booking_keys.pay_currency', 'coalesce(payee_months.pay_currency, latest_history.pay_currency)',
            'segment_fx.rate_to_reporting', 'payout_fx.rate_to_reporting',
            month_end('booking_keys.payout_month')
        ) }} as booking_fx_rate
    from booking_keys
    left join {{ ref('int_payee_months') }} as payee_months
        on booking_keys.employee_id = payee_months.employee_id
        and booking_keys.payout_month = payee_months.payout_month
    left join (
        select employee_id, pay_currency,
            row_number() over (partition by employee_id order by valid_from desc) as recency_rank
        from {{ ref('int_employee_history') }}
    ) as latest_history
        on booking_keys.employee_id = latest_history.employee_id
        and latest_history.recency_rank = 1
    left join {{ ref('int_fx_rates') }} as segment_fx
        on booking_keys.pay_currency = segment_fx.currency_code
        and {{ month_end('booking_keys.payout_month') }} = segment_fx.rate_date
    left join {{ ref('int_fx_rates') }} as payout_fx
        on coalesce(payee_months.pay_currency, latest_history.pay_currency) = payout_fx.currency_code
        and {{ month_end('booking_keys.payout_month') }} = payout_fx.rate_date
),

classified as (
    select
        changes.*,
        case
            when rule_type = 'rate_cap' then 'rate_cap'
            when is_clawed_back then 'clawback'
            when is_clawback_reversed then 'adjustment'
            when was_counted_before and not is_counted_now then 'adjustment'
            when not was_counted_before and is_counted_now and credit_month < entry_month then 'adjustment'
            when not was_counted_before and is_counted_now then 'earning'
            when credit_amount_deal_currency <> previous_credit_amount_deal_currency
                or close_date <> previous_close_date then 'adjustment'
            when is_payment_reversed then 'adjustment'
            when is_released then 'earning'
            else 'true_up'
        end as base_entry_type,
        case
            when rule_type = 'rate_cap' then 'rate_cap'
            when is_clawed_back and is_churned_now and not was_churned_before then 'churn'
            when is_clawed_back then 'uncollectible_invoice'
            when is_clawback_reversed then 'clawback_reversed'
            when was_counted_before and not is_counted_now then 'credit_removed'
            when not was_counted_before and is_counted_now and credit_month < entry_month then 'booked_late'
            when not was_counted_before and is_counted_now then 'booked'
            when credit_amount_deal_currency <> previous_credit_amount_deal_currency then 'amount_changed'
            when close_date <> previous_close_date then 'close_date_changed'
            when is_payment_reversed then 'invoice_reversed'
            when is_released then 'invoice_paid'
            when fx_rate <> previous_fx_rate then 'fx_rate_changed'
            else 'rerated'
        end as change_reason
    from changes
)

select
    {{ dbt.concat(["classified.segment_id", "'@'", to_text('classified.entry_month'), "':'", "classified.rule_key"]) }}
        as entry_id,
    classified.entry_month as payout_month,
    segments.employee_id,
    segments.plan_id,
    segments.plan_version,
    segments.quota_period,
    segments.period_start,
    segments.period_end,
    segments.segment_id,
    segments.segment_start,
    segments.segment_end,
    case when classified.base_entry_type = 'earning' and classified.rule_type = 'bonus' then 'bonus'
        else classified.base_entry_type end as entry_type,
    classified.rule_type,
    classified.change_reason,
    classified.rule_key,
    classified.payee_credit_id,
    classified.credit_line_id,
    classified.opportunity_id,
    classified.split_id,
    classified.split_percent,
    case
        when classified.change_reason = 'uncollectible_invoice' then classified.written_off_invoice_id
        when classified.change_reason = 'invoice_paid' then classified.paid_invoice_id
        when classified.change_reason in ('invoice_reversed', 'clawback_reversed', 'fx_rate_changed')
            then classified.changed_invoice_id
    end as invoice_id,
    classified.credit_type,
    classified.rollup_level,
    classified.credited_rep_employee_id,
    classified.close_date,
    classified.credit_month,
    plan_versions.tier_method,
    classified.tier_number,
    classified.bonus_id,
    classified.rate,
    classified.credit_in_tier,
    classified.is_below_threshold,
    classified.would_be_amount,
    plan_versions.commission_threshold,
    classified.deal_currency,
    classified.credit_amount_deal_currency,
    classified.previous_credit_amount_deal_currency,
    classified.fx_rate,
    classified.fx_rate_date,
    classified.credit_amount,
    classified.counted_credit_amount,
    classified.clawback_fraction,
    classified.release_fraction,
    classified.paid_amount,
    classified.deal_amount,
    classified.churn_month,
    segments.quota_amount,
    case when segments.quota_amount > 0
        then {{ exact_division('classified.cumulative_credit_before', 'segments.quota_amount') }} end
        as attainment_before,
    case when segments.quota_amount > 0
        then {{ exact_division('classified.cumulative_credit_after', 'segments.quota_amount') }} end
        as attainment_after,
    classified.amount_before,
    classified.amount_after,
    segments.pay_currency as segment_currency_code,
    cast(classified.amount_after - classified.amount_before as decimal(18, 2)) as amount_in_segment_currency,
    booking.booking_fx_rate,
    -- a line converted beyond decimal(18, 2) (a cross rate far above 1) stops the build naming the entry
    {{ fit_decimal(
        'round(' ~ exact_product('classified.amount_after - classified.amount_before', 'booking.booking_fx_rate')
            ~ ', 2)',
        'the ledger line converted to the payout currency',
        dbt.concat([
            "'entry '", "classified.segment_id", "'@'", to_text('classified.entry_month'), "':'",
            "classified.rule_key", "' ('", "segments.pay_currency", "'->'", "booking.payout_currency", "')'"
        ])
    ) }} as amount,
    booking.payout_currency as currency_code
from classified
inner join segments
    on classified.segment_id = segments.segment_id
inner join plan_versions
    on segments.plan_id = plan_versions.plan_id
    and segments.plan_version = plan_versions.plan_version
inner join booking
    on segments.employee_id = booking.employee_id
    and classified.entry_month = booking.payout_month
    and segments.pay_currency = booking.segment_currency
