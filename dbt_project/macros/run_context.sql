{#- The Dagster run that invoked dbt (passed as the `spm_run_id` var), or dbt's own invocation id when dbt is run
    by hand, so every row of the run history names the run that computed it. -#}
{% macro spm_run_id() -%}
    {{ var('spm_run_id', none) or ('dbt-' ~ invocation_id) }}
{%- endmacro %}
