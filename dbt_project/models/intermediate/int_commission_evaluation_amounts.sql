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
-- What each rule of a plan segment pays, as evaluated at one month: the tier engine, bonuses and the rate cap.
-- Tier bounds come from the plan version's tier table scaled by the segment quota (plans as code):
--  * marginal: a credit occupies [cumulative before, cumulative after) of the segment's counted credit; each
--    tier pays its rate on the part of that interval inside [from_attainment * quota, to_attainment * quota).
--  * retroactive: the tier reached by the segment's total counted credit pays its rate on every credit.
--  * attainment cap: the cumulative interval is clipped at attainment_cap * quota before slicing.
--  * threshold: while attainment to date is below it, tier rows pay 0; would_be_amount keeps what they would
--    pay, so the ledger line can say so.
--  * zero quota: the first tier's rate on all credit (no threshold, caps or accelerators). A missing quota
--    produces no rows; the publication gate blocks.
--  * bonuses: per credit, rate_on_credit x counted credit, or share x TI / 12 x split % x (1 - clawback).
--  * rate cap: min(0, round(rate_cap x payable credit, 2) - payable tier commission), one row per evaluation.
-- earned_amount is before the pay basis; amount = round(earned_amount x payable_factor, 2) is what is owed
-- at this evaluation. Ledger lines are differences of `amount` between evaluations.
-- Grain: one row per segment_id x evaluation_month x rule_key (payee credit + rule, or the segment's rate cap).
with credits as (
    select *
    from {{ ref('int_commission_evaluation_credits') }}
    -- incremental: only the months new data can change (macros/incremental_rebuild.sql)
    where {{ rebuild_filter('evaluation_month') }}
),

segments as (
    select segment_id, quota_amount, target_incentive_annual, quota_period, period_start, segment_start, segment_end
    from {{ ref('int_plan_segments') }}
),

plan_versions as (
    select plan_id, plan_version, tier_method, commission_threshold, attainment_cap, rate_cap
    from {{ ref('stg_plans__plan_versions') }}
),

tiers as (
    select plan_id, plan_version, tier_number, from_attainment, to_attainment, rate
    from {{ ref('stg_plans__plan_tiers') }}
),

evaluation_totals as (
    -- the segment's counted credit at the evaluation: the same figure the payout and fct_attainment report
    select segment_id, evaluation_month, counted_credit_amount as counted_total
    from {{ ref('int_segment_attainment') }}
    where {{ rebuild_filter('evaluation_month') }}
),

tier_bounds as (
    select
        credits.*,
        segments.quota_amount,
        plan_versions.tier_method,
        plan_versions.commission_threshold,
        plan_versions.attainment_cap,
        evaluation_totals.counted_total,
        case
            when plan_versions.attainment_cap is null then credits.cumulative_credit_before
            else least(
                credits.cumulative_credit_before,
                {{ exact_product('plan_versions.attainment_cap', 'segments.quota_amount') }}
            )
        end as capped_before,
        case
            when plan_versions.attainment_cap is null then credits.cumulative_credit_after
            else least(
                credits.cumulative_credit_after,
                {{ exact_product('plan_versions.attainment_cap', 'segments.quota_amount') }}
            )
        end as capped_after,
        case
            when plan_versions.attainment_cap is null then evaluation_totals.counted_total
            else least(
                evaluation_totals.counted_total,
                {{ exact_product('plan_versions.attainment_cap', 'segments.quota_amount') }}
            )
        end as capped_total,
        coalesce(
            plan_versions.commission_threshold is not null
            and segments.quota_amount > 0
            and evaluation_totals.counted_total
                < {{ exact_product('plan_versions.commission_threshold', 'segments.quota_amount') }},
            false
        ) as is_below_threshold,
        tiers.tier_number,
        tiers.from_attainment,
        tiers.to_attainment,
        tiers.rate,
        {{ exact_product('tiers.from_attainment', 'segments.quota_amount') }} as tier_floor_amount,
        {{ exact_product('tiers.to_attainment', 'segments.quota_amount') }} as tier_ceiling_amount
    from credits
    inner join segments
        on credits.segment_id = segments.segment_id
    inner join evaluation_totals
        on credits.segment_id = evaluation_totals.segment_id
        and credits.evaluation_month = evaluation_totals.evaluation_month
    inner join plan_versions
        on credits.plan_id = plan_versions.plan_id
        and credits.plan_version = plan_versions.plan_version
    inner join tiers
        on credits.plan_id = tiers.plan_id
        and credits.plan_version = tiers.plan_version
    where segments.quota_amount is not null
),

marginal_slices as (
    select
        tier_bounds.*,
        case
            when tier_ceiling_amount is not null and tier_ceiling_amount < capped_after then tier_ceiling_amount
            else capped_after
        end
        - case when tier_floor_amount > capped_before then tier_floor_amount else capped_before end
            as credit_in_tier
    from tier_bounds
    where tier_method = 'marginal' and quota_amount > 0
),

retroactive_slices as (
    select
        tier_bounds.*,
        capped_after - capped_before as credit_in_tier
    from tier_bounds
    where tier_method = 'retroactive'
        and quota_amount > 0
        and capped_total >= tier_floor_amount
        and (tier_ceiling_amount is null or capped_total < tier_ceiling_amount)
),

zero_quota_slices as (
    select
        tier_bounds.*,
        counted_credit_amount as credit_in_tier
    from tier_bounds
    where quota_amount = 0 and tier_number = 1
),

slices as (
    select * from marginal_slices where credit_in_tier > 0
    union all
    select * from retroactive_slices where credit_in_tier > 0
    union all
    select * from zero_quota_slices where credit_in_tier <> 0
),

tier_rows as (
    select
        {{ dbt.concat(["payee_credit_id", "':tier'", to_text('tier_number')]) }} as rule_key,
        'tier' as rule_type,
        segment_id,
        evaluation_month,
        payee_credit_id,
        tier_number,
        cast(null as {{ dbt.type_string() }}) as bonus_id,
        rate,
        cast(credit_in_tier as decimal(22, 6)) as credit_in_tier,
        is_below_threshold,
        case
            when is_below_threshold then cast(0 as decimal(18, 2))
            else cast(round({{ exact_product('credit_in_tier', 'rate') }}, 2) as decimal(18, 2))
        end as earned_amount,
        cast(
            {{ round_amount('round(' ~ exact_product('credit_in_tier', 'rate') ~ ', 2) * payable_factor') }}
            as decimal(18, 2)
        ) as would_be_amount,
        payable_factor
    from slices
),

bonus_rows as (
    select
        {{ dbt.concat(["credits.payee_credit_id", "':bonus:'", "bonuses.bonus_id"]) }} as rule_key,
        'bonus' as rule_type,
        credits.segment_id,
        credits.evaluation_month,
        credits.payee_credit_id,
        cast(null as integer) as tier_number,
        bonuses.bonus_id,
        bonuses.rate_on_credit as rate,
        cast(null as decimal(22, 6)) as credit_in_tier,
        false as is_below_threshold,
        case
            when bonuses.rate_on_credit is not null
                then cast(
                    round({{ exact_product('credits.counted_credit_amount', 'bonuses.rate_on_credit') }}, 2)
                    as decimal(18, 2)
                )
            else cast(
                -- a flat bonus follows payment when the plan counts attainment on payment
                {{ round_amount(
                    exact_product('bonuses.share_of_monthly_target_incentive', 'segments.target_incentive_annual')
                    ~ ' / 12'
                    ~ " * credits.split_percent / 100 * (1 - credits.clawback_fraction)"
                    ~ " * case when credits.attainment_basis = 'invoice_paid' then credits.release_fraction else 1 end"
                ) }} as decimal(18, 2)
            )
        end as earned_amount,
        cast(null as decimal(18, 2)) as would_be_amount,
        credits.payable_factor
    from credits
    inner join segments
        on credits.segment_id = segments.segment_id
    inner join {{ ref('stg_plans__plan_bonuses') }} as bonuses
        on credits.plan_id = bonuses.plan_id
        and credits.plan_version = bonuses.plan_version
    where (bonuses.applies_to = 'new_logo' and credits.opportunity_type = 'new')
        or (bonuses.applies_to = 'multi_year' and credits.contract_term_months >= bonuses.min_contract_term_months)
),

rule_rows as (
    select
        tier_rows.*,
        cast({{ round_amount('earned_amount * payable_factor') }} as decimal(18, 2)) as amount
    from tier_rows
    union all
    select
        bonus_rows.*,
        cast({{ round_amount('earned_amount * payable_factor') }} as decimal(18, 2)) as amount
    from bonus_rows
),

rate_cap_rows as (
    select
        'rate_cap' as rule_key,
        'rate_cap' as rule_type,
        payable.segment_id,
        payable.evaluation_month,
        cast(null as {{ dbt.type_string() }}) as payee_credit_id,
        cast(null as integer) as tier_number,
        cast(null as {{ dbt.type_string() }}) as bonus_id,
        plan_versions.rate_cap as rate,
        cast(payable.payable_credit as decimal(22, 6)) as credit_in_tier,
        false as is_below_threshold,
        cast(tier_paid.tier_amount as decimal(18, 2)) as earned_amount,
        cast(null as decimal(18, 2)) as would_be_amount,
        cast(1 as {{ type_fraction() }}) as payable_factor,
        cast(
            case
                when round({{ exact_product('plan_versions.rate_cap', 'payable.payable_credit') }}, 2)
                    < tier_paid.tier_amount
                    then round({{ exact_product('plan_versions.rate_cap', 'payable.payable_credit') }}, 2)
                        - tier_paid.tier_amount
                else 0
            end as decimal(18, 2)
        ) as amount
    from (
        select segment_id, evaluation_month, plan_id, plan_version, sum(payable_credit_amount) as payable_credit
        from credits
        group by segment_id, evaluation_month, plan_id, plan_version
    ) as payable
    inner join plan_versions
        on payable.plan_id = plan_versions.plan_id
        and payable.plan_version = plan_versions.plan_version
    inner join segments
        on payable.segment_id = segments.segment_id
    inner join (
        select segment_id, evaluation_month, sum({{ round_amount('earned_amount * payable_factor') }}) as tier_amount
        from tier_rows
        group by segment_id, evaluation_month
    ) as tier_paid
        on payable.segment_id = tier_paid.segment_id
        and payable.evaluation_month = tier_paid.evaluation_month
    -- zero quota pays the first tier's rate with no caps
    where plan_versions.rate_cap is not null and segments.quota_amount > 0
)

select
    {{ dbt.concat(["rule_rows.segment_id", "'@'", to_text('rule_rows.evaluation_month'), "':'", "rule_rows.rule_key"]) }}
        as evaluation_amount_id,
    rule_rows.segment_id,
    rule_rows.evaluation_month,
    rule_rows.rule_key,
    rule_rows.rule_type,
    rule_rows.payee_credit_id,
    rule_rows.tier_number,
    rule_rows.bonus_id,
    rule_rows.rate,
    rule_rows.credit_in_tier,
    rule_rows.is_below_threshold,
    rule_rows.earned_amount,
    rule_rows.would_be_amount,
    rule_rows.payable_factor,
    rule_rows.amount
from rule_rows
union all
select
    {{ dbt.concat(["segment_id", "'@'", to_text('evaluation_month'), "':'", "rule_key"]) }} as evaluation_amount_id,
    segment_id,
    evaluation_month,
    rule_key,
    rule_type,
    payee_credit_id,
    tier_number,
    bonus_id,
    rate,
    credit_in_tier,
    is_below_threshold,
    earned_amount,
    would_be_amount,
    payable_factor,
    amount
from rate_cap_rows
