{#- round(expr, digits) for an expression that may be a double (an amount times a fraction). PostgreSQL has
    round(numeric, int) only, so it rounds the value's numeric form there; DuckDB and Spark round the double. -#}
{% macro round_amount(expr, digits=2) -%}
    {{ return(adapter.dispatch('round_amount')(expr, digits)) }}
{%- endmacro %}

{% macro default__round_amount(expr, digits) -%}
    round({{ expr }}, {{ digits }})
{%- endmacro %}

{% macro postgres__round_amount(expr, digits) -%}
    round(cast({{ expr }} as numeric), {{ digits }})
{%- endmacro %}
