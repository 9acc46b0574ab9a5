{#
  Incremental engine models: rebuild only the months new source data can change (docs/incremental.md).

  Every raw row is appended by a load (`_load_id`). A model built with these macros remembers which loads it has
  seen (`intermediate.incremental_build_loads`); on the next run it deletes and recomputes only the months from

      rebuild_from = least(the run's first partition month, earliest month any unseen load can change)

  and keeps the earlier months it already holds, which no unseen load can change. Without a partition window
  (a `dbt build` by hand), on the first build, with `--full-refresh`, when the model has no record of what it
  saw, or when it was built by another code version (var `spm_code_version`), every month is rebuilt. Each build
  writes the month it rebuilt from to `intermediate.incremental_builds` (null: every month).

  The earliest month a load can change depends on how the warehouse reads its source (`change_months`):
  * known_from: a deal, split or invoice version counts from the month it became known (last_modified); an
    evaluation at month K reads only the versions known by K.
  * version_ranges: a subscription's first version holds from its start date, a later version from its
    last_modified (int_customer_arr_monthly), and churn months follow from those.
  * latest_version: the warehouse reads only the latest version of the record (an HR row, a leave, a customer,
    a quota, an FX rate). A new latest version is compared with the latest version seen before: when only dates
    differ, the change starts at the earliest old or new value of a date that differs (a termination set on an
    HR row from 2023 changes pay from the termination month, not from 2023); when anything else differs, at the
    earliest date either version covers; when nothing differs, nowhere. A record seen for the first time
    changes from the earliest date it covers.
  HR rows, leaves, plan versions and assignments decide each plan segment's days, and a segment's quota is
  prorated over its whole quota period (int_plan_segments: active days / days in period), so their change
  reaches back to the start of the period: to the start of the calendar year, the longest quota period.
  CRM users and accounts feed no engine model (only the retention marts, which are rebuilt in full), so their
  loads restart nothing; tests/test_incremental_rule.py fails if an engine model ever starts reading them.
#}

{#-
  Per source the engine reads: the relation, how the warehouse reads its versions, the record key and version
  order of latest_version sources, and the earliest date a version can change the engine's results.
-#}
{% macro change_months() -%}
    {{ return([
        {'relation': source('crm', 'crm__opportunities'), 'kind': 'known_from',
         'changes_from': "cast(last_modified as date)"},
        {'relation': source('crm', 'crm__opportunity_splits'), 'kind': 'known_from',
         'changes_from': "cast(last_modified as date)"},
        {'relation': source('billing', 'billing__invoices'), 'kind': 'known_from',
         'changes_from': "cast(last_modified as date)"},
        {'relation': source('billing', 'billing__subscriptions'), 'kind': 'version_ranges',
         'key': ['subscription_id'], 'order_by': 'last_modified',
         'changes_from': "least(cast(last_modified as date), start_date, coalesce(end_date, start_date))"},
        {'relation': source('hr', 'hr__workers'), 'kind': 'latest_version', 'whole_quota_period': true,
         'key': ['employee_id', 'effective_from'], 'order_by': 'last_modified',
         'changes_from': "least(effective_from, coalesce(termination_date, effective_from))"},
        {'relation': source('hr', 'hr__leaves'), 'kind': 'latest_version', 'whole_quota_period': true,
         'key': ['leave_id'], 'order_by': 'last_modified', 'changes_from': "start_date"},
        {'relation': source('billing', 'billing__customers'), 'kind': 'latest_version',
         'key': ['customer_id'], 'order_by': 'last_modified',
         'changes_from': "least(cast(last_modified as date), cast(created_at as date))"},
        {'relation': source('salesops', 'salesops__quotas'), 'kind': 'latest_version',
         'key': ['employee_id', 'period_type', 'period_start'], 'order_by': 'updated_at',
         'changes_from': "period_start"},
        {'relation': source('fx', 'fx__rates'), 'kind': 'latest_version',
         'key': ['rate_date', 'currency'], 'order_by': '_loaded_at', 'changes_from': "rate_date"},
    ]) }}
{%- endmacro %}

{#- Plans are loaded by ingestion/plans.py (no file log): their versions and assignments, by effective date. -#}
{% macro plan_change_months() -%}
    {{ return([
        {'relation': source('plans', 'plans__plan_versions'), 'kind': 'known_from', 'whole_quota_period': true,
         'changes_from': "effective_from"},
        {'relation': source('plans', 'plans__assignments'), 'kind': 'known_from', 'whole_quota_period': true,
         'changes_from': "effective_from"},
    ]) }}
{%- endmacro %}

{#- Sources whose loads are logged but which no engine model reads (see tests/test_incremental_rule.py). -#}
{% macro sources_outside_the_engine() -%}
    {{ return([source('crm', 'crm__users'), source('crm', 'crm__accounts')]) }}
{%- endmacro %}

{#- Every load in the raw layer: the loader's file log (one row per landed file) and the plan loads. -#}
{% macro all_source_loads() -%}
    select load_id, entity, loaded_at from {{ source('loader', 'loaded_files') }}
    {%- for spec in plan_change_months() %}
    union
    select distinct _load_id as load_id, '{{ spec.relation.identifier }}' as entity, _loaded_at as loaded_at
    from {{ spec.relation }}
    {%- endfor %}
{%- endmacro %}

{#-
  The earliest date the unseen rows of one source can change the engine's results (one row, `change_date`,
  null when they change nothing). Reads the CTE `unseen` (load_id, entity, loaded_at) of rebuild_from_month.
-#}
{% macro source_change_date(spec) -%}
    {%- set relation = spec.relation -%}
    {%- set entity = relation.identifier -%}
    {%- if spec.kind == 'known_from' -%}
        select min({{ spec.changes_from }}) as change_date
        from {{ relation }}
        where {{ unseen_rows('', entity) }}
    {%- elif spec.kind in ('version_ranges', 'latest_version') -%}
        {%- set key = spec.key -%}
        {%- set version_order -%}
            versions.{{ spec.order_by }} desc, versions._source_file desc, versions._source_row desc
        {%- endset -%}
        with versions as (
            -- every version of the records that have an unseen version
            select
                src.*,
                src._load_id in (select load_id from unseen where entity = '{{ entity }}') as is_unseen,
                {{ spec.changes_from }} as covered_from
            from {{ relation }} as src
            where exists (
                select 1
                from {{ relation }} as touched
                where {{ unseen_rows('touched.', entity) }}
                {%- for column in key %}
                    and touched.{{ column }} = src.{{ column }}
                {%- endfor %}
            )
        )
        {%- if spec.kind == 'version_ranges' %}
        -- a version later than every seen one holds from its last_modified; anything else (a first version, or
        -- one arriving out of order) can move every range of the record
        select min(
            case when max_seen_order is not null and min_unseen_order > max_seen_order
                then cast(min_unseen_order as date) else covered_from end
        ) as change_date
        from (
            select
                max(case when not is_unseen then {{ spec.order_by }} end) as max_seen_order,
                min(case when is_unseen then {{ spec.order_by }} end) as min_unseen_order,
                min(covered_from) as covered_from
            from versions
            group by {{ key | join(', ') }}
        ) as records
        {%- else %},
        ranked as (
            select
                versions.*,
                row_number() over (partition by {{ prefixed(key, 'versions.') }} order by {{ version_order }})
                    as recency,
                row_number() over (
                    partition by {{ prefixed(key, 'versions.') }}, versions.is_unseen order by {{ version_order }}
                ) as recency_within_seen
            from versions
        )
        {%- set columns = compared_columns(relation, key + [spec.order_by]) %}
        select min(
            case
                when previous_version.is_unseen is null then latest_version.covered_from
                when {{ payload_unchanged(columns.payload) }} then {{ earliest_changed_date(columns.dates) }}
                else least(latest_version.covered_from, previous_version.covered_from)
            end
        ) as change_date
        from ranked as latest_version
        left join ranked as previous_version
            on previous_version.recency_within_seen = 1 and not previous_version.is_unseen
            {%- for column in key %}
            and previous_version.{{ column }} = latest_version.{{ column }}
            {%- endfor %}
        -- only a record whose latest version is new changes what the warehouse reads
        where latest_version.recency = 1 and latest_version.is_unseen
        {%- endif %}
    {%- else -%}
        {{ exceptions.raise_compiler_error("change_months: unknown kind " ~ spec.kind ~ " for " ~ entity) }}
    {%- endif -%}
{%- endmacro %}

{% macro unseen_rows(alias, entity) -%}
    -- the loaded_at bound lets the engine skip the (append-ordered) history before the first unseen load
    {{ alias }}_loaded_at >= (select min(loaded_at) from unseen where entity = '{{ entity }}')
        and {{ alias }}_load_id in (select load_id from unseen where entity = '{{ entity }}')
{%- endmacro %}

{% macro prefixed(columns, alias) -%}
    {%- for column in columns %}{{ alias }}{{ column }}{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}

{#-
  The business columns of a raw table that two versions of a record are compared on, split into dates and the
  rest. Load metadata, the record key and the version order are not compared. Read from the table itself, so a
  column added to a source contract is compared without anyone remembering to list it here.
-#}
{% macro compared_columns(relation, skipped) -%}
    {%- set dates, payload = [], [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- set name = column.name | lower -%}
        {%- set type = column.dtype | lower -%}
        {%- if name.startswith('_') or name in skipped -%}
        {%- elif 'date' in type or 'timestamp' in type -%}
            {%- do dates.append(name) -%}
        {%- else -%}
            {%- do payload.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'dates': dates, 'payload': payload}) }}
{%- endmacro %}

{% macro payload_unchanged(columns) -%}
    {%- for column in columns %}
    latest_version.{{ column }} is not distinct from previous_version.{{ column }}
    {%- if not loop.last %} and{% endif %}
    {%- else %}
    1 = 1
    {%- endfor %}
{%- endmacro %}

{#- The earliest old or new value of the dates that differ between the two versions (null: none differs). -#}
{% macro earliest_changed_date(columns) -%}
    {%- if columns | length == 0 -%}
        cast(null as date)
    {%- else -%}
        least(
        {%- for column in columns %}
            case when latest_version.{{ column }} is distinct from previous_version.{{ column }}
                then least(cast(latest_version.{{ column }} as date), cast(previous_version.{{ column }} as date))
            end{% if not loop.last %},{% endif %}
        {%- endfor %}
        )
    {%- endif -%}
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
    {%- if run_setting('partition_start_month') is none or this is none or not execute or not is_incremental() -%}
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
            {%- for spec in change_months() + plan_change_months() %}
            {%- if spec.get('whole_quota_period') %}
            -- segment quotas are prorated over their whole quota period (at most a calendar year)
            select cast({{ dbt.date_trunc('year', 'change_date') }} as date) as change_date
            {%- else %}
            select change_date
            {%- endif %}
            from ({{ source_change_date(spec) }}) as {{ spec.relation.identifier }}_changes
            {%- if not loop.last %}
            union all{% endif %}
            {%- endfor %}
        )
        select
            (select count(*) from seen) as seen_loads,
            (select count(*) from seen where code_version <> '{{ run_setting('spm_code_version') }}') as other_code,
            (select {{ month_start('min(change_date)') }} from changes) as first_change_month
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {#- never built with a record of its loads, or built by other code: rebuild every month -#}
    {%- if row[0] == 0 or row[1] > 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set start = run_setting('partition_start_month') | string -%}
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
{% macro build_log_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema, identifier='incremental_builds')) }}
{%- endmacro %}

{% macro create_incremental_state() -%}
    {%- if engine_materialization() != 'incremental' -%}{{ return('select 1 as no_incremental_state') }}{%- endif -%}
    {%- set state = incremental_state_relation() -%}
    create table if not exists {{ state }} (
        model_name {{ dbt.type_string() }},
        load_id {{ dbt.type_string() }},
        code_version {{ dbt.type_string() }},
        built_at {{ dbt.type_timestamp() }}
    );
    create table if not exists {{ build_log_relation() }} (
        model_name {{ dbt.type_string() }},
        rebuilt_from date,
        partition_start_month date,
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

{#- The last post-hook: the loads this build saw, and which months it rebuilt (null: all of them). -#}
{% macro record_seen_loads() -%}
    {%- if engine_materialization() != 'incremental' -%}{{ return('select 1 as no_incremental_state') }}{%- endif -%}
    {%- set state = incremental_state_relation() -%}
    {%- set rebuilt_from = rebuild_from_month() -%}
    insert into {{ state }} (model_name, load_id, code_version, built_at)
    select distinct '{{ this.identifier }}', loads.load_id, '{{ run_setting('spm_code_version') }}', {{ dbt.current_timestamp() }}
    from ({{ all_source_loads() }}) as loads
    where loads.load_id not in (
        select load_id from {{ state }} where model_name = '{{ this.identifier }}'
    );
    insert into {{ build_log_relation() }} (model_name, rebuilt_from, partition_start_month, code_version, built_at)
    values (
        '{{ this.identifier }}',
        {% if rebuilt_from is none %}cast(null as date){% else %}cast('{{ rebuilt_from }}' as date){% endif %},
        {% if run_setting('partition_start_month') is none %}cast(null as date)
        {%- else %}cast('{{ run_setting('partition_start_month') }}' as date){% endif %},
        '{{ run_setting('spm_code_version') }}',
        {{ dbt.current_timestamp() }}
    )
{%- endmacro %}
