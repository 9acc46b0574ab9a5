{#
  The type for fractions that multiply money (clawback, release): a double, so that 1/3 of a deal is not
  rounded to 0.333333 before it is applied (round(300,000 x 2/3, 2) must be 200,000.00, not 200,000.10).
  Amounts are rounded to cents right after the multiplication. `dbt.type_float()` would be a 4-byte REAL on
  DuckDB, hence this macro.
#}
{% macro type_fraction() -%}
    {{ return(adapter.dispatch('type_fraction')()) }}
{%- endmacro %}

{% macro default__type_fraction() -%}
    double precision
{%- endmacro %}

{% macro spark__type_fraction() -%}
    double
{%- endmacro %}
