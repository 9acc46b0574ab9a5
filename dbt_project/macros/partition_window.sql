{#
  Monthly partition window for incremental models. Dagster passes the run's partition range as
  `partition_start_month` / `partition_end_month` (first days of months, inclusive); without them every month
  is in the window.
#}
{% macro partition_window_filter(column) -%}
    {%- set start = run_setting('partition_start_month') -%}
    {%- set end = run_setting('partition_end_month') -%}
    {%- if start is not none and end is not none -%}
        {{ column }} between cast('{{ start }}' as date) and cast('{{ end }}' as date)
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The window's months as ISO dates (first days, inclusive), or none for "every month". -#}
{% macro partition_window_months() -%}
    {%- set start = run_setting('partition_start_month') -%}
    {%- set end = run_setting('partition_end_month') -%}
    {%- if start is none or end is none -%}{{ return(none) }}{%- endif -%}
    {%- set first = modules.datetime.date.fromisoformat(start | string) -%}
    {%- set last = modules.datetime.date.fromisoformat(end | string) -%}
    {%- set months = [] -%}
    {%- for index in range(first.year * 12 + first.month - 1, last.year * 12 + last.month) -%}
        {%- do months.append(modules.datetime.date(index // 12, index % 12 + 1, 1).isoformat()) -%}
    {%- endfor -%}
    {{ return(months) }}
{%- endmacro %}

{#
  Pre-hook for incremental, month-partitioned models: delete the window's months before re-inserting them,
  so a rerun or backfill replaces a month instead of double-counting it (and a month that now has no rows is
  emptied, which a delete+insert keyed on the new rows would miss).
  Spark cannot delete rows from a Parquet table: there the models are partitioned by the month column
  (`month_partition_by`) and the hook drops the window's partitions instead (all of them without a window).
#}
{% macro delete_partition_window(column) -%}
    {{ return(adapter.dispatch('delete_partition_window')(column)) }}
{%- endmacro %}

{% macro default__delete_partition_window(column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ partition_window_filter(column) }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}

{% macro spark__delete_partition_window(column) -%}
    {{ return(spark_drop_partitions(column, {})) }}
{%- endmacro %}

{#
  Pre-hook of the run history (fct_payout_runs): a retried run replaces only its own rows of the window.
  On Spark the table is partitioned by (month, run_id) so that these rows are whole partitions.
#}
{% macro delete_own_run_window(column) -%}
    {{ return(adapter.dispatch('delete_own_run_window')(column)) }}
{%- endmacro %}

{% macro default__delete_own_run_window(column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where run_id = '{{ spm_run_id() }}' and {{ partition_window_filter(column) }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}

{% macro spark__delete_own_run_window(column) -%}
    {{ return(spark_drop_partitions(column, {'run_id': spm_run_id()})) }}
{%- endmacro %}

{#- Spark: drop the partitions of the window's months (and of `fixed`, a dict of further partition values);
    without a window, every partition matching `fixed`, or the whole table when `fixed` is empty. -#}
{% macro spark_drop_partitions(column, fixed) -%}
    {%- if not is_incremental() -%}
        {{ return('select 1 as nothing_to_delete') }}
    {%- endif -%}
    {%- set fixed_spec = [] -%}
    {%- for name, value in fixed.items() -%}
        {%- do fixed_spec.append(name ~ ' = ' ~ string_literal(value)) -%}
    {%- endfor -%}
    {%- set months = partition_window_months() -%}
    {%- if months is none and not fixed_spec -%}
        {{ return('truncate table ' ~ this) }}
    {%- endif -%}
    {%- set specs = [] -%}
    {%- for month in (months if months is not none else [none]) -%}
        {%- set spec = ([column ~ " = '" ~ month ~ "'"] if month is not none else []) + fixed_spec -%}
        {%- do specs.append('partition (' ~ spec | join(', ') ~ ')') -%}
    {%- endfor -%}
    {{ return('alter table ' ~ this ~ ' drop if exists ' ~ specs | join(', ')) }}
{%- endmacro %}

{#- partition_by of the month-partitioned incremental models: the partition columns on Spark (the delete hooks
    above drop partitions there), none elsewhere (DuckDB and PostgreSQL delete rows). -#}
{% macro month_partition_by(columns) -%}
    {{ return(adapter.dispatch('month_partition_by')(columns)) }}
{%- endmacro %}

{% macro default__month_partition_by(columns) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__month_partition_by(columns) -%}
    {{ return(columns) }}
{%- endmacro %}
