{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        partition_by=month_partition_by(['payout_month']),
        pre_hook="{{ delete_partition_window('payout_month') }}",
        tags=['monthly_partitioned'],
        post_hook="{{ payee_row_security('payout_month') }}",
    )
}}
-- depends_on: {{ ref('team_members_monthly') }}
-- The commission ledger: every line that makes up a payout, append-only by construction (a month's lines
-- depend only on what was known by the end of that month; later knowledge creates later lines). Entry types:
-- earning, true_up, adjustment, clawback, bonus, rate_cap (from int_commission_entries), payout_cap, draw,
-- draw_recovery (int_ledger_lines), prior_period_adjustment (a closed month computed differently now:
-- int_prior_period_adjustments, with the month it adjusts in `adjusted_month`), and one `payout` line per
-- payee-month equal to minus the net payout, so each payee-month balances to zero and the other lines sum
-- exactly to fct_monthly_payouts.net_payout_amount (all in cents). Every line carries its source keys, plan
-- version, rule, tier, rate, FX rate and date, attainment before and after, amount before/after and a sentence
-- that explains it. Partitioned by payout_month.
with non_payout_lines as (
    select {{ ledger_line_columns() }}
    from {{ ref('int_ledger_lines') }}
    where {{ partition_window_filter('payout_month') }}

    union all

    select {{ ledger_line_columns() }}
    from {{ ref('int_prior_period_adjustments') }}
    where {{ partition_window_filter('payout_month') }}
),

payout_lines as (
    select
        {{ dbt.concat(["employee_id", "':'", to_text('payout_month'), "':payout'"]) }} as ledger_line_id,
        payout_month,
        employee_id,
        max(currency_code) as currency_code,
        cast(sum(amount) as decimal(18, 2)) as net_payout_amount
    from non_payout_lines
    group by employee_id, payout_month
)

select {{ ledger_line_columns() }} from non_payout_lines
union all
select
    ledger_line_id, payout_month, employee_id, 'payout' as entry_type, 'payout' as rule_type,
    {{ ledger_nulls([
        'change_reason', 'plan_id', 'plan_version', 'quota_period', 'period_start', 'segment_start', 'segment_end',
        'opportunity_id', 'split_id', 'invoice_id', 'payee_credit_id', 'credit_type', 'rollup_level',
        'credited_rep_employee_id', 'close_date', 'tier_method', 'tier_number', 'rate', 'bonus_id', 'deal_currency',
        'credit_amount_deal_currency', 'fx_rate', 'fx_rate_date', 'credit_amount', 'quota_amount',
        'attainment_before', 'attainment_after',
    ]) }},
    cast(0 as decimal(18, 2)) as amount_before, cast(0 as decimal(18, 2)) as amount_after,
    currency_code as segment_currency_code, cast(-net_payout_amount as decimal(18, 2)) as amount_in_segment_currency,
    cast(1 as decimal(18, 8)) as booking_fx_rate,
    cast(-net_payout_amount as decimal(18, 2)) as amount,
    currency_code,
    {{ dbt.concat([
        "'Payout: '", to_text('net_payout_amount'), "' '", "currency_code",
        "' paid for '", to_text('payout_month'), string_literal(" (the sum of this month's other lines)."),
    ]) }} as explanation,
    'payout' as ledger_subject,
    {{ ledger_nulls(['adjusted_month']) }}
from payout_lines
