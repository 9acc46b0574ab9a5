{# Last day of the month that `month_start` begins. Cross-database: built on dbt's own dateadd. #}
{% macro month_end(month_start) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_start)) }} as date)
{%- endmacro %}

{# First day of the month containing `date_expr`, as a date on every adapter. #}
{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{# Open-ended ranges use this far-future date so `between` works without null handling. #}
{% macro end_of_time() -%}
    cast('9999-12-31' as date)
{%- endmacro %}
