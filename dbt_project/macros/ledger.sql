{#- The ledger's columns, in order, with their types: int_ledger_lines, int_prior_period_adjustments and
    fct_commission_ledger all select exactly these, so a union of them can never misalign a column, and a
    branch that has no value for a column fills it with `ledger_nulls` at the column's one declared type. -#}
{% macro ledger_column_types() -%}
    {{ return({
        'ledger_line_id': dbt.type_string(), 'payout_month': 'date', 'employee_id': dbt.type_string(),
        'entry_type': dbt.type_string(), 'rule_type': dbt.type_string(), 'change_reason': dbt.type_string(),
        'plan_id': dbt.type_string(), 'plan_version': 'integer', 'quota_period': dbt.type_string(),
        'period_start': 'date', 'segment_start': 'date', 'segment_end': 'date',
        'opportunity_id': dbt.type_string(), 'split_id': dbt.type_string(), 'invoice_id': dbt.type_string(),
        'payee_credit_id': dbt.type_string(), 'credit_type': dbt.type_string(), 'rollup_level': 'integer',
        'credited_rep_employee_id': dbt.type_string(), 'close_date': 'date', 'tier_method': dbt.type_string(),
        'tier_number': 'integer', 'rate': 'decimal(9, 6)', 'bonus_id': dbt.type_string(),
        'deal_currency': dbt.type_string(), 'credit_amount_deal_currency': 'decimal(18, 2)',
        'fx_rate': 'decimal(18, 8)', 'fx_rate_date': 'date', 'credit_amount': 'decimal(18, 2)',
        'quota_amount': 'decimal(18, 2)', 'attainment_before': 'decimal(18, 6)',
        'attainment_after': 'decimal(18, 6)', 'amount_before': 'decimal(18, 2)', 'amount_after': 'decimal(18, 2)',
        'segment_currency_code': dbt.type_string(), 'amount_in_segment_currency': 'decimal(18, 2)',
        'booking_fx_rate': 'decimal(18, 8)', 'amount': 'decimal(18, 2)', 'currency_code': dbt.type_string(),
        'explanation': dbt.type_string(), 'ledger_subject': dbt.type_string(), 'adjusted_month': 'date',
    }) }}
{%- endmacro %}

{% macro ledger_line_columns(exclude=[]) -%}
    {{ ledger_column_types().keys() | reject('in', exclude) | join(', ') }}
{%- endmacro %}

{#- `cast(null as <type>) as <column>` for each of `columns` (ledger columns a union branch has no value for). -#}
{% macro ledger_nulls(columns) -%}
    {%- set types = ledger_column_types() -%}
    {%- for column in columns -%}
        cast(null as {{ types[column] }}) as {{ column }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
