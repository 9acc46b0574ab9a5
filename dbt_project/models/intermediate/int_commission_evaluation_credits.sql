{{
    config(
        materialized=engine_materialization(),
        incremental_strategy='append',
        pre_hook="{{ delete_rebuilt_months('evaluation_month') }}",
        post_hook=[
            "{{ create_incremental_state() }}",
            "{{ forget_seen_loads_after_full_rebuild() }}",
            "{{ record_seen_loads() }}",
        ],
    )
}}
-- The credits each plan segment counts at each of its evaluations (int_segment_evaluations; see
-- docs/compensation-engine.md).
-- At evaluation month K a credit version counts when it is valid at K and its close month is <= K. Per credit:
--   fx_rate at the plan's fx_policy date (close date, end of the close month, or first invoice date known by K)
--   credit_amount          = round(credit in deal currency * fx_rate, 2)
--   clawback_fraction      = 1 after a churn in the window, else min(1, uncollectible in window / deal amount)
--   release_fraction       = min(1, paid invoice amount known by K / (deal amount * (1 - clawback_fraction)))
--   counted_credit_amount  = round(credit_amount * (1 - clawback_fraction) * [release_fraction when the plan's
--                            attainment_basis is invoice_paid], 2)   -- what attainment and tiers use
--   payable_factor         = release_fraction when the plan pays on invoice paid (and attainment counts at booking)
-- Grain: one row per segment_id x evaluation_month x payee_credit_id.
with evaluations as (
    select segment_id, evaluation_month
    from {{ ref('int_segment_evaluations') }}
    -- incremental: only the months new data can change (macros/incremental_rebuild.sql)
    where {{ rebuild_filter('evaluation_month') }}
),

segment_credits as (
    select *
    from {{ ref('int_segment_credits') }}
),

invoice_states as (
    select
        invoice_id, opportunity_id, invoice_date, amount, status, known_from_month, known_to_month,
        first_uncollectible_month
    from {{ ref('int_invoice_states') }}
),

counted as (
    select
        evaluations.evaluation_month,
        segment_credits.*
    from evaluations
    inner join segment_credits
        on evaluations.segment_id = segment_credits.segment_id
        and segment_credits.known_from_month <= evaluations.evaluation_month
        and (segment_credits.known_to_month is null or segment_credits.known_to_month > evaluations.evaluation_month)
        and segment_credits.credit_month <= evaluations.evaluation_month
),

collections as (
    select
        counted.segment_id,
        counted.evaluation_month,
        counted.payee_credit_id,
        sum(case when invoice_states.status = 'paid' then invoice_states.amount else 0 end) as paid_amount,
        sum(
            case
                when invoice_states.status = 'uncollectible'
                    and invoice_states.first_uncollectible_month <= counted.clawback_window_end_month
                    then invoice_states.amount
                else 0
            end
        ) as uncollectible_amount,
        min(case when invoice_states.status not in ('void', 'draft') then invoice_states.invoice_date end)
            as first_invoice_date,
        max(
            case when invoice_states.known_from_month = counted.evaluation_month and invoice_states.status = 'paid'
                then invoice_states.invoice_id end
        ) as paid_invoice_id,
        max(
            case when invoice_states.known_from_month = counted.evaluation_month
                and invoice_states.status = 'uncollectible' then invoice_states.invoice_id end
        ) as written_off_invoice_id,
        max(case when invoice_states.known_from_month = counted.evaluation_month then invoice_states.invoice_id end)
            as changed_invoice_id
    from counted
    inner join invoice_states
        on counted.opportunity_id = invoice_states.opportunity_id
        and invoice_states.known_from_month <= counted.evaluation_month
        and (invoice_states.known_to_month is null or invoice_states.known_to_month > counted.evaluation_month)
    where counted.uses_invoices
    group by counted.segment_id, counted.evaluation_month, counted.payee_credit_id
),

with_fractions as (
    select
        counted.*,
        collections.paid_amount,
        collections.uncollectible_amount,
        collections.first_invoice_date,
        collections.paid_invoice_id,
        collections.written_off_invoice_id,
        collections.changed_invoice_id,
        case
            when counted.fx_policy = 'period_end' then {{ month_end('counted.credit_month') }}
            when counted.fx_policy = 'invoice_date' then coalesce(collections.first_invoice_date, counted.close_date)
            else counted.close_date
        end as fx_rate_date,
        -- fractions stay unrounded doubles until they multiply money (see the type_fraction macro)
        case
            when counted.churn_month <= counted.evaluation_month then cast(1 as {{ type_fraction() }})
            when counted.clawback_on_uncollectible and counted.deal_amount > 0
                then least(
                    cast(1 as {{ type_fraction() }}),
                    cast(coalesce(collections.uncollectible_amount, 0) as {{ type_fraction() }}) / counted.deal_amount
                )
            else cast(0 as {{ type_fraction() }})
        end as clawback_fraction,
        coalesce(collections.paid_amount, 0) as paid_to_date_amount
    from counted
    left join collections
        on counted.segment_id = collections.segment_id
        and counted.evaluation_month = collections.evaluation_month
        and counted.payee_credit_id = collections.payee_credit_id
),

with_release as (
    -- Released = paid / the part of the deal still collectible: money written off (and clawed back) is not
    -- also withheld from the collected part, so a deal half paid and half written off releases in full the
    -- commission left on the paid half.
    select
        with_fractions.*,
        case
            -- a plan that neither pays nor counts on payment releases everything at booking
            when with_fractions.pay_basis <> 'invoice_paid' and with_fractions.attainment_basis <> 'invoice_paid'
                then cast(1 as {{ type_fraction() }})
            when with_fractions.deal_amount > 0 and with_fractions.clawback_fraction < 1
                then greatest(
                    cast(0 as {{ type_fraction() }}),
                    least(
                        cast(1 as {{ type_fraction() }}),
                        cast(with_fractions.paid_to_date_amount as {{ type_fraction() }})
                        / (with_fractions.deal_amount * (1 - with_fractions.clawback_fraction))
                    )
                )
            else cast(1 as {{ type_fraction() }})
        end as release_fraction
    from with_fractions
),

with_fx as (
    select
        with_release.*,
        {{ fx_rate(
            'with_release.deal_currency', 'with_release.pay_currency',
            'deal_fx.rate_to_reporting', 'pay_fx.rate_to_reporting', 'with_release.fx_rate_date'
        ) }} as fx_rate
    from with_release
    left join {{ ref('int_fx_rates') }} as deal_fx
        on with_release.deal_currency = deal_fx.currency_code
        and with_release.fx_rate_date = deal_fx.rate_date
    left join {{ ref('int_fx_rates') }} as pay_fx
        on with_release.pay_currency = pay_fx.currency_code
        and with_release.fx_rate_date = pay_fx.rate_date
),

converted as (
    -- exact_product: DuckDB's 18-digit product overflowed from 100,000,000.00 x a rate of 1 on; a credit
    -- converted beyond decimal(18, 2) (a cross rate far above 1) stops the build naming the credit
    select
        with_fx.*,
        {{ fit_decimal(
            'round(' ~ exact_product('credit_amount_deal_currency', 'fx_rate') ~ ', 2)',
            'the credit converted to pay currency',
            dbt.concat([
                "'credit '", "payee_credit_id", "' of segment '", "segment_id", "' ('", "deal_currency", "'->'",
                "pay_currency", "' on '", to_text('fx_rate_date'), "')'"
            ])
        ) }} as credit_amount
    from with_fx
),

amounts as (
    select
        converted.*,
        cast(
            {{ round_amount(
                "credit_amount * (1 - clawback_fraction)"
                ~ " * case when attainment_basis = 'invoice_paid' then release_fraction else 1 end"
            ) }} as decimal(18, 2)
        ) as counted_credit_amount,
        case when pay_basis = 'invoice_paid' and attainment_basis = 'booking' then release_fraction
            else cast(1 as {{ type_fraction() }})
        end as payable_factor
    from converted
)

select
    {{ dbt.concat(["segment_id", "'@'", to_text('evaluation_month'), "':'", "payee_credit_id"]) }}
        as evaluation_credit_id,
    segment_id,
    evaluation_month,
    employee_id,
    plan_id,
    plan_version,
    pay_basis,
    attainment_basis,
    fx_policy,
    payee_credit_id,
    payee_credit_version_id,
    known_from_month,
    credit_line_id,
    credit_type,
    opportunity_id,
    account_id,
    opportunity_type,
    contract_term_months,
    split_id,
    split_percent,
    credited_rep_employee_id,
    rollup_level,
    close_date,
    credit_month,
    deal_amount,
    deal_currency,
    credit_amount_deal_currency,
    pay_currency,
    fx_rate,
    fx_rate_date,
    credit_amount,
    -- only a churn that has happened by the evaluation: a row says what was known at its month, so a later
    -- cancellation changes no earlier evaluation (and incremental runs need not recompute them)
    case when churn_month <= evaluation_month then churn_month end as churn_month,
    paid_to_date_amount as paid_amount,
    uncollectible_amount,
    paid_invoice_id,
    written_off_invoice_id,
    changed_invoice_id,
    clawback_fraction,
    release_fraction,
    payable_factor,
    counted_credit_amount,
    cast({{ round_amount('counted_credit_amount * payable_factor') }} as decimal(18, 2)) as payable_credit_amount,
    row_number() over (
        partition by segment_id, evaluation_month order by close_date, payee_credit_id
    ) as credit_sequence,
    sum(counted_credit_amount) over (
        partition by segment_id, evaluation_month
        order by close_date, payee_credit_id
        rows between unbounded preceding and current row
    ) - counted_credit_amount as cumulative_credit_before,
    sum(counted_credit_amount) over (
        partition by segment_id, evaluation_month
        order by close_date, payee_credit_id
        rows between unbounded preceding and current row
    ) as cumulative_credit_after
from amounts
