{#
  Incremental engine models: rebuild only the months new source data can change (docs/incremental.md).

  Every raw row is appended by a load (`_load_id`), and the engine reads a source row only from a month on:
  a deal, split or invoice version from the month it became known (its last_modified: an evaluation at month K
  counts only versions known by K), a subscription also from its start or end (churn months come from those
  dates), an HR row from its effective date, a quota from its period, an FX rate from its date,
  a plan version or assignment from its effective_from. `change_months` lists that month per source. A model
  built with this macro remembers which loads it has seen (`intermediate.incremental_build_loads`); on the next
  run it deletes and recomputes only the months from

      rebuild_from = least(the run's first partition month, earliest month any unseen load can change)

  and keeps the earlier months it already holds, which no unseen load can change. Without a partition window
  (a `dbt build` by hand), on the first build, with `--full-refresh`, when the model has no record of what it
  saw, or when it was built by another code version (var `spm_code_version`), every month is rebuilt.
#}

{#- Per source: the relation, and the earliest date one of its rows can change the engine's results. -#}
{% macro change_months() -%}
    {{ return([
        (source('crm', 'crm__opportunities'), "cast(last_modified as date)"),
        (source('crm', 'crm__opportunity_splits'), "cast(last_modified as date)"),
        (source('crm', 'crm__users'), "cast(last_modified as date)"),
        (source('crm', 'crm__accounts'), "least(cast(last_modified as date), created_date)"),
        (source('hr', 'hr__workers'), "least(effective_from, coalesce(termination_date, effective_from))"),
        (source('hr', 'hr__leaves'), "start_date"),
        (source('billing', 'billing__customers'), "least(cast(last_modified as date), cast(created_at as date))"),
        (source('billing', 'billing__subscriptions'),
            "least(cast(last_modified as date), start_date, coalesce(end_date, start_date))"),
        (source('billing', 'billing__invoices'), "cast(last_modified as date)"),
        (source('salesops', 'salesops__quotas'), "period_start"),
        (source('fx', 'fx__rates'), "rate_date"),
    ]) }}
{%- endmacro %}

{#- Plans are loaded by ingestion/plans.py (no file log): their versions and assignments, by effective date. -#}
{% macro plan_change_months() -%}
    {{ return([
        (source('plans', 'plans__plan_versions'), "effective_from"),
        (source('plans', 'plans__assignments'), "effective_from"),
    ]) }}
{%- endmacro %}

{#- Every load in the raw layer: the loader's file log (one row per landed file) and the plan loads. -#}
{% macro all_source_loads() -%}
    select load_id, entity, loaded_at from {{ source('loader', 'loaded_files') }}
    {%- for relation, _ in plan_change_months() %}
    union
    select distinct _load_id as load_id, '{{ relation.identifier }}' as entity, _loaded_at as loaded_at
    from {{ relation }}
    {%- endfor %}
{%- endmacro %}

{#-
  The materialization of the incremental engine models. Spark cannot delete rows from its Parquet tables, so
  there they are rebuilt in full (see docs/engines.md); DuckDB and PostgreSQL rebuild only the changed months.
-#}
{% macro engine_materialization() -%}
    {{ return(adapter.dispatch('engine_materialization')()) }}
{%- endmacro %}

{% macro default__engine_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__engine_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{% macro incremental_state_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema,
                                  identifier='incremental_build_loads')) }}
{%- endmacro %}

{#-
  The first month this run recomputes, as 'YYYY-MM-DD', or none for "every month". Evaluated at compile time
  (run_query), so the model body, its pre-hook and its post-hook all see the same answer.
-#}
{% macro rebuild_from_month() -%}
    {%- if var('partition_start_month') is none or this is none or not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set state = incremental_state_relation() -%}
    {%- if adapter.get_relation(state.database, state.schema, state.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        with seen as (
            select load_id, code_version from {{ state }} where model_name = '{{ this.identifier }}'
        ),
        unseen as (
            select load_id, entity, loaded_at
            from ({{ all_source_loads() }}) as loads
            where load_id not in (select load_id from seen)
        ),
        changes as (
            {%- for relation, changes_from in change_months() + plan_change_months() %}
            select min({{ month_start(changes_from) }}) as change_month
            from {{ relation }}
            -- the loaded_at bound lets the engine skip the (append-ordered) history before the first unseen load
            where _loaded_at >= (select min(loaded_at) from unseen where entity = '{{ relation.identifier }}')
                and _load_id in (select load_id from unseen where entity = '{{ relation.identifier }}')
            {%- if not loop.last %} union all{% endif %}
            {%- endfor %}
        )
        select
            (select count(*) from seen) as seen_loads,
            (select count(*) from seen where code_version <> '{{ var("spm_code_version") }}') as other_code,
            (select min(change_month) from changes) as first_change_month
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {#- never built with a record of its loads, or built by other code: rebuild every month -#}
    {%- if row[0] == 0 or row[1] > 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set start = var('partition_start_month') | string -%}
    {%- if row[2] is not none and (row[2] | string)[:10] < start -%}
        {{ return((row[2] | string)[:10]) }}
    {%- endif -%}
    {{ return(start) }}
{%- endmacro %}

{#- Filter for the rows this run recomputes. -#}
{% macro rebuild_filter(column) -%}
    {%- set start = rebuild_from_month() -%}
    {%- if start is none -%}
        1 = 1
    {%- else -%}
        {{ column }} >= cast('{{ start }}' as date)
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: delete the months this run recomputes (all of them on a full rebuild of an existing table). -#}
{% macro delete_rebuilt_months(column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ rebuild_filter(column) }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}

{#- Post-hooks: remember every load this build has seen, and the code that built it. A failed build records
    nothing, so the next run recomputes the same months again. -#}
{% macro create_incremental_state() -%}
    {%- if engine_materialization() != 'incremental' -%}{{ return('select 1 as no_incremental_state') }}{%- endif -%}
    {%- set state = incremental_state_relation() -%}
    create table if not exists {{ state }} (
        model_name {{ dbt.type_string() }},
        load_id {{ dbt.type_string() }},
        code_version {{ dbt.type_string() }},
        built_at {{ dbt.type_timestamp() }}
    )
{%- endmacro %}

{% macro forget_seen_loads_after_full_rebuild() -%}
    {%- if engine_materialization() != 'incremental' -%}
        select 1 as no_incremental_state
    {%- elif rebuild_from_month() is none -%}
        delete from {{ incremental_state_relation() }} where model_name = '{{ this.identifier }}'
    {%- else -%}
        select 1 as nothing_to_forget
    {%- endif -%}
{%- endmacro %}

{% macro record_seen_loads() -%}
    {%- if engine_materialization() != 'incremental' -%}{{ return('select 1 as no_incremental_state') }}{%- endif -%}
    {%- set state = incremental_state_relation() -%}
    insert into {{ state }} (model_name, load_id, code_version, built_at)
    select distinct '{{ this.identifier }}', loads.load_id, '{{ var("spm_code_version") }}', {{ dbt.current_timestamp() }}
    from ({{ all_source_loads() }}) as loads
    where loads.load_id not in (
        select load_id from {{ state }} where model_name = '{{ this.identifier }}'
    )
{%- endmacro %}
