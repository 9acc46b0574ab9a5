-- The tier engine: one row per plan credit per tier it earns in. Tier bounds come from the plan version's
-- tier table (plans as code), scaled by the payee-month's prorated quota.
--  * marginal: a credit occupies [cumulative before, cumulative after) of the month's credit; each tier pays
--    its own rate on the part of that interval inside [from_attainment * quota, to_attainment * quota).
--  * retroactive: the tier reached by the month's total credit pays its rate on every credit.
--  * attainment cap (plan `attainment_cap`): credit beyond attainment_cap * quota is not counted; the
--    cumulative interval is clipped at that amount before slicing (credit entirely above it earns no line).
--  * threshold (plan `commission_threshold`): when the month's attainment is below it, every tier line is
--    kept for traceability but pays 0 (once the month crosses the gate, all credit pays from the first euro).
--  * zero quota (e.g. unpaid leave the whole month): attainment is undefined; the first tier's rate applies
--    to all credit (no accelerator windfall; no cap or threshold). A missing quota produces no lines; the gate
--    blocks the month.
-- commission_amount = round(credit_in_tier * rate, 2): rounding happens per line, and the payout is the sum
-- of the rounded lines, so lines always reconcile to the payout to the cent.
with plan_credits as (
    select
        payee_credit_id, credit_line_id, employee_id, payout_month, plan_id, plan_version, credit_type,
        opportunity_id, split_id, split_percent, credited_rep_employee_id, rollup_level, close_date,
        deal_currency, credit_amount_deal_currency, pay_currency, fx_rate, fx_rate_date, credit_amount,
        cumulative_credit_before, cumulative_credit_after
    from {{ ref('int_plan_credits') }}
),

attainment as (
    select employee_id, payout_month, quota_amount, credited_amount
    from {{ ref('int_attainment_monthly') }}
),

plan_versions as (
    select plan_id, plan_version, tier_method, commission_threshold, attainment_cap
    from {{ ref('stg_plans__plan_versions') }}
),

tiers as (
    select plan_id, plan_version, tier_number, from_attainment, to_attainment, rate
    from {{ ref('stg_plans__plan_tiers') }}
),

tier_bounds as (
    select
        plan_credits.*,
        plan_versions.tier_method,
        plan_versions.commission_threshold,
        plan_versions.attainment_cap,
        attainment.quota_amount,
        attainment.credited_amount as month_credited_amount,
        case
            when plan_versions.attainment_cap is null then plan_credits.cumulative_credit_before
            else least(plan_credits.cumulative_credit_before, plan_versions.attainment_cap * attainment.quota_amount)
        end as counted_before,
        case
            when plan_versions.attainment_cap is null then plan_credits.cumulative_credit_after
            else least(plan_credits.cumulative_credit_after, plan_versions.attainment_cap * attainment.quota_amount)
        end as counted_after,
        case
            when plan_versions.attainment_cap is null then attainment.credited_amount
            else least(attainment.credited_amount, plan_versions.attainment_cap * attainment.quota_amount)
        end as month_counted_amount,
        coalesce(
            plan_versions.commission_threshold is not null
            and attainment.quota_amount > 0
            and attainment.credited_amount < plan_versions.commission_threshold * attainment.quota_amount,
            false
        ) as is_below_threshold,
        tiers.tier_number,
        tiers.from_attainment,
        tiers.to_attainment,
        tiers.rate,
        tiers.from_attainment * attainment.quota_amount as tier_floor_amount,
        tiers.to_attainment * attainment.quota_amount as tier_ceiling_amount
    from plan_credits
    inner join attainment
        on plan_credits.employee_id = attainment.employee_id
        and plan_credits.payout_month = attainment.payout_month
    inner join plan_versions
        on plan_credits.plan_id = plan_versions.plan_id
        and plan_credits.plan_version = plan_versions.plan_version
    inner join tiers
        on plan_credits.plan_id = tiers.plan_id
        and plan_credits.plan_version = tiers.plan_version
    where attainment.quota_amount is not null
),

marginal_slices as (
    select
        tier_bounds.*,
        case
            when tier_ceiling_amount is not null and tier_ceiling_amount < counted_after
                then tier_ceiling_amount
            else counted_after
        end
        - case
            when tier_floor_amount > counted_before then tier_floor_amount
            else counted_before
        end as credit_in_tier
    from tier_bounds
    where tier_method = 'marginal' and quota_amount > 0
),

retroactive_slices as (
    select
        tier_bounds.*,
        counted_after - counted_before as credit_in_tier
    from tier_bounds
    where tier_method = 'retroactive'
        and quota_amount > 0
        and month_counted_amount >= tier_floor_amount
        and (tier_ceiling_amount is null or month_counted_amount < tier_ceiling_amount)
),

zero_quota_slices as (
    select
        tier_bounds.*,
        credit_amount as credit_in_tier
    from tier_bounds
    where quota_amount = 0 and tier_number = 1
),

slices as (
    select * from marginal_slices where credit_in_tier > 0
    union all
    select * from retroactive_slices where credit_in_tier > 0
    union all
    select * from zero_quota_slices
)

select
    {{ dbt.concat(["payee_credit_id", "':tier'", "cast(tier_number as " ~ dbt.type_string() ~ ")"]) }}
        as commission_line_id,
    payee_credit_id,
    credit_line_id,
    employee_id,
    payout_month,
    plan_id,
    plan_version,
    tier_method,
    credit_type,
    opportunity_id,
    split_id,
    split_percent,
    credited_rep_employee_id,
    rollup_level,
    close_date,
    deal_currency,
    credit_amount_deal_currency,
    pay_currency,
    fx_rate,
    fx_rate_date,
    credit_amount,
    quota_amount,
    tier_number,
    from_attainment as tier_from_attainment,
    to_attainment as tier_to_attainment,
    rate,
    cast(credit_in_tier as decimal(18, 6)) as credit_in_tier,
    commission_threshold,
    attainment_cap,
    is_below_threshold,
    case
        when is_below_threshold then cast(0 as decimal(18, 2))
        else cast(round(credit_in_tier * rate, 2) as decimal(18, 2))
    end as commission_amount,
    case when quota_amount > 0 then cast(round(month_credited_amount / quota_amount, 6) as decimal(18, 6)) end
        as month_attainment,
    case when quota_amount > 0 then cast(round(cumulative_credit_before / quota_amount, 6) as decimal(18, 6)) end
        as attainment_before,
    case when quota_amount > 0 then cast(round(cumulative_credit_after / quota_amount, 6) as decimal(18, 6)) end
        as attainment_after
from slices
