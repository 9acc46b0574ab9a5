{#- The Dagster run that invoked dbt (passed as the `spm_run_id` var), or dbt's own invocation id when dbt is run
    by hand, so every row of the run history names the run that computed it. -#}
{% macro spm_run_id() -%}
    {{ run_setting('spm_run_id') or ('dbt-' ~ invocation_id) }}
{%- endmacro %}

{#-
  A setting Dagster passes to each dbt invocation of a run: the partition window, the run id and the code
  version. Read from the environment variable below when it is set, else from the dbt var of the same name
  (`dbt build --vars '{...}'` by hand, and the defaults in dbt_project.yml).
  Why the environment and not --vars: dbt re-parses the whole project whenever --vars differ from its last
  parse, which every run's window and run id would do (4-7 s per invocation, twice a run); a changed environment
  variable makes it re-parse only the files that read it. orchestration/lib/dbt_runs.py sets them.
-#}
{% macro run_setting(name) -%}
    {%- set environment_variables = {
        'partition_start_month': 'SPM_PARTITION_START_MONTH',
        'partition_end_month': 'SPM_PARTITION_END_MONTH',
        'spm_run_id': 'SPM_RUN_ID',
        'spm_code_version': 'SPM_CODE_VERSION',
    } -%}
    {%- if name not in environment_variables -%}
        {{ exceptions.raise_compiler_error("run_setting: unknown setting " ~ name) }}
    {%- endif -%}
    {%- set value = env_var(environment_variables[name], '') -%}
    {{ return(value if value != '' else var(name, none)) }}
{%- endmacro %}
