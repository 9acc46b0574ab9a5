{# Cast any value to the adapter's string type (varchar / text / string), for human-readable explanations. #}
{% macro to_text(expr) -%}
    cast({{ expr }} as {{ dbt.type_string() }})
{%- endmacro %}
