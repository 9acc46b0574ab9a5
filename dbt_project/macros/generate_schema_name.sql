{#
  Use the layer's schema name as is (staging, intermediate, marts) instead of dbt's default
  `<target_schema>_<custom>`: BI users and the publication step address `marts.fct_monthly_payouts`
  the same way on every target.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
