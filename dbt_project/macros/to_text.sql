{# Cast any value to the adapter's string type (varchar / text / string), for human-readable explanations. #}
{% macro to_text(expr) -%}
    cast({{ expr }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- A SQL string literal of `text`, its apostrophes escaped the adapter's way ('' on DuckDB and PostgreSQL, \' on
    Spark, where 'a''b' is two adjacent literals and reads as 'ab'). -#}
{% macro string_literal(text) -%}
    '{{ dbt.escape_single_quotes(text) }}'
{%- endmacro %}
