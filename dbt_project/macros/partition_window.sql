{#
  Monthly partition window for incremental models. Dagster passes the run's partition range as
  `partition_start_month` / `partition_end_month` (first days of months, inclusive); without them every month
  is in the window.
#}
{% macro partition_window_filter(column) -%}
    {%- set start = var('partition_start_month') -%}
    {%- set end = var('partition_end_month') -%}
    {%- if start is not none and end is not none -%}
        {{ column }} between cast('{{ start }}' as date) and cast('{{ end }}' as date)
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#
  Pre-hook for incremental, month-partitioned models: delete the window's months before re-inserting them,
  so a rerun or backfill replaces a month instead of double-counting it (and a month that now has no rows is
  emptied, which a delete+insert keyed on the new rows would miss).
#}
{% macro delete_partition_window(column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ partition_window_filter(column) }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}
