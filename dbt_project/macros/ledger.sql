{#- The ledger's column list, in order: int_ledger_lines, int_prior_period_adjustments and fct_commission_ledger
    all select exactly these, so a union of them can never misalign a column. -#}
{% macro ledger_line_columns(exclude=[]) -%}
    {%- set columns = [
        'ledger_line_id', 'payout_month', 'employee_id', 'entry_type', 'rule_type', 'change_reason', 'plan_id',
        'plan_version', 'quota_period', 'period_start', 'segment_start', 'segment_end', 'opportunity_id',
        'split_id', 'invoice_id', 'payee_credit_id', 'credit_type', 'rollup_level', 'credited_rep_employee_id',
        'close_date', 'tier_method', 'tier_number', 'rate', 'bonus_id', 'deal_currency',
        'credit_amount_deal_currency', 'fx_rate', 'fx_rate_date', 'credit_amount', 'quota_amount',
        'attainment_before', 'attainment_after', 'amount_before', 'amount_after', 'segment_currency_code',
        'amount_in_segment_currency', 'booking_fx_rate', 'amount', 'currency_code', 'explanation',
        'ledger_subject', 'adjusted_month',
    ] -%}
    {{ columns | reject('in', exclude) | join(', ') }}
{%- endmacro %}
