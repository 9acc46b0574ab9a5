{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_partition_window('payout_month') }}",
        tags=['monthly_partitioned'],
    )
}}
-- Commission lines: one row per credit x plan rule: a tier slice ('tier'), a SPIFF ('bonus'), plus one
-- 'payout_cap' adjustment line for a payee-month whose tier commission and bonuses exceed the plan cap. Every line carries the plan version, tier, rate,
-- FX rate and date, attainment before/after and a sentence a rep can read. Lines sum exactly to
-- fct_monthly_payouts.net_payout_amount. Partitioned by payout_month (rebuilt per monthly window).
with tier_lines as (
    select
        commission_line_id,
        payout_month,
        employee_id,
        plan_id,
        plan_version,
        'tier' as rule_type,
        cast(null as {{ dbt.type_string() }}) as bonus_id,
        tier_method,
        payee_credit_id,
        credit_type,
        opportunity_id,
        split_id,
        split_percent,
        credited_rep_employee_id,
        rollup_level,
        close_date,
        deal_currency,
        credit_amount_deal_currency,
        fx_rate,
        fx_rate_date,
        credit_amount,
        quota_amount,
        tier_number,
        tier_from_attainment,
        tier_to_attainment,
        rate,
        credit_in_tier,
        attainment_before,
        attainment_after,
        pay_currency as currency_code,
        commission_amount,
        {{ dbt.concat([
            "'Tier '", to_text('tier_number'),
            "' ('", to_text('cast(tier_from_attainment * 100 as decimal(9, 2))'), "'%-'",
            "coalesce(" ~ to_text('cast(tier_to_attainment * 100 as decimal(9, 2))') ~ " || '%', 'no limit')",
            "' of quota, '", "tier_method", "') at '", to_text('cast(rate * 100 as decimal(9, 4))'), "'% on '",
            to_text('cast(credit_in_tier as decimal(18, 2))'), "' '", "pay_currency", "' of '", "credit_type",
            "' credit'", "case when rollup_level > 0 then ' (team roll-up via ' || credited_rep_employee_id || ')' else '' end",
            "' from opportunity '", "opportunity_id",
            "coalesce(' split ' || split_id, '')", "' ('", to_text('split_percent'), "'%)'",
            "', closed '", to_text('close_date'),
            "'; '", to_text('credit_amount_deal_currency'), "' '", "deal_currency",
            "' converted at '", to_text('fx_rate'), "' ('", to_text('fx_rate_date'), "')'",
            "case when is_below_threshold then '; NOT PAID: month attainment ' || "
            ~ to_text('cast(month_attainment * 100 as decimal(9, 2))') ~ " || '% is below the plan threshold of ' || "
            ~ to_text('cast(commission_threshold * 100 as decimal(9, 2))') ~ " || '%' else '' end",
        ]) }} as explanation
    from {{ ref('int_commission_tier_slices') }}
    where {{ partition_window_filter('payout_month') }}
),

cap_lines as (
    select
        {{ dbt.concat(["employee_id", "':'", to_text('payout_month'), "':payout_cap'"]) }} as commission_line_id,
        payout_month,
        employee_id,
        plan_id,
        plan_version,
        'payout_cap' as rule_type,
        cast(null as {{ dbt.type_string() }}) as bonus_id,
        cast(null as {{ dbt.type_string() }}) as tier_method,
        cast(null as {{ dbt.type_string() }}) as payee_credit_id,
        cast(null as {{ dbt.type_string() }}) as credit_type,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        cast(null as {{ dbt.type_string() }}) as split_id,
        cast(null as decimal(9, 4)) as split_percent,
        cast(null as {{ dbt.type_string() }}) as credited_rep_employee_id,
        cast(null as integer) as rollup_level,
        cast(null as date) as close_date,
        cast(null as {{ dbt.type_string() }}) as deal_currency,
        cast(null as decimal(18, 2)) as credit_amount_deal_currency,
        cast(null as decimal(18, 8)) as fx_rate,
        cast(null as date) as fx_rate_date,
        cast(null as decimal(18, 2)) as credit_amount,
        cast(null as decimal(18, 2)) as quota_amount,
        cast(null as integer) as tier_number,
        cast(null as decimal(9, 4)) as tier_from_attainment,
        cast(null as decimal(9, 4)) as tier_to_attainment,
        cast(null as decimal(9, 6)) as rate,
        cast(null as decimal(18, 6)) as credit_in_tier,
        cast(null as decimal(18, 6)) as attainment_before,
        cast(null as decimal(18, 6)) as attainment_after,
        pay_currency as currency_code,
        cap_adjustment_amount as commission_amount,
        {{ dbt.concat([
            "'Payout cap: '", to_text('payout_cap_multiple'), "'x monthly target incentive = '",
            to_text('cap_amount'), "' '", "pay_currency", "'; tier commission '",
            to_text('tier_commission_amount'), "' plus bonuses '", to_text('bonus_amount'),
            "' reduced by '", to_text('cap_adjustment_amount'),
        ]) }} as explanation
    from {{ ref('int_commission_caps') }}
    where cap_adjustment_amount < 0
        and {{ partition_window_filter('payout_month') }}
),

bonus_lines as (
    select
        commission_line_id,
        payout_month,
        employee_id,
        plan_id,
        plan_version,
        'bonus' as rule_type,
        bonus_id,
        cast(null as {{ dbt.type_string() }}) as tier_method,
        payee_credit_id,
        credit_type,
        opportunity_id,
        split_id,
        split_percent,
        credited_rep_employee_id,
        rollup_level,
        close_date,
        deal_currency,
        credit_amount_deal_currency,
        fx_rate,
        fx_rate_date,
        credit_amount,
        cast(null as decimal(18, 2)) as quota_amount,
        cast(null as integer) as tier_number,
        cast(null as decimal(9, 4)) as tier_from_attainment,
        cast(null as decimal(9, 4)) as tier_to_attainment,
        rate_on_credit as rate,
        cast(null as decimal(18, 6)) as credit_in_tier,
        cast(null as decimal(18, 6)) as attainment_before,
        cast(null as decimal(18, 6)) as attainment_after,
        pay_currency as currency_code,
        bonus_amount as commission_amount,
        {{ dbt.concat([
            "case applies_to when 'new_logo' then 'New-logo bonus' else 'Multi-year bonus ('"
            ~ " || " ~ to_text('contract_term_months') ~ " || '-month contract)' end",
            "' '", "bonus_id", "': '",
            "case when rate_on_credit is not null then "
            ~ to_text('cast(rate_on_credit * 100 as decimal(9, 4))') ~ " || '% of ' || "
            ~ to_text('credit_amount') ~ " || ' ' || pay_currency || ' credit' else "
            ~ to_text('share_of_monthly_target_incentive') ~ " || ' x monthly target incentive ' || "
            ~ to_text('cast(target_incentive_annual / 12 as decimal(18, 2))') ~ " || ' x ' || "
            ~ to_text('split_percent') ~ " || '% share' end",
            "' = '", to_text('bonus_amount'), "' '", "pay_currency",
            "' for opportunity '", "opportunity_id", "' closed '", to_text('close_date'),
        ]) }} as explanation
    from {{ ref('int_commission_bonuses') }}
    where {{ partition_window_filter('payout_month') }}
)

{%- set line_columns = [
    'commission_line_id',
    'payout_month',
    'employee_id',
    'plan_id',
    'plan_version',
    'rule_type',
    'bonus_id',
    'tier_method',
    'payee_credit_id',
    'credit_type',
    'opportunity_id',
    'split_id',
    'split_percent',
    'credited_rep_employee_id',
    'rollup_level',
    'close_date',
    'deal_currency',
    'credit_amount_deal_currency',
    'fx_rate',
    'fx_rate_date',
    'credit_amount',
    'quota_amount',
    'tier_number',
    'tier_from_attainment',
    'tier_to_attainment',
    'rate',
    'credit_in_tier',
    'attainment_before',
    'attainment_after',
    'currency_code',
    'commission_amount',
    'explanation',
] %}

select {{ line_columns | join(', ') }} from tier_lines
union all
select {{ line_columns | join(', ') }} from bonus_lines
union all
select {{ line_columns | join(', ') }} from cap_lines
