{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        partition_by=month_partition_by(['payout_month']),
        pre_hook="{{ delete_partition_window('payout_month') }}",
        tags=['monthly_partitioned'],
        post_hook="{{ payee_row_security('payout_month') }}",
    )
}}
-- depends_on: {{ ref('team_members_monthly') }}
-- Run-to-run diff: for every run of a month and the run of that month before it, each payee whose payout
-- changed, by how much, and why: change_reasons lists the kinds of input that differ between the two runs
-- (source_data, plan_version, hierarchy, quota, fx, and code when the code version differs; 'unexplained'
-- if none does). Payees appearing in or missing from one of the runs are listed too (payee_added,
-- payee_removed). Any other two runs of a month: `spm diff`.
-- Unpublished preview numbers: not copied to the BI serving file.
-- Grain: one row per run_change_id (payout_month x run_id x employee_id). Partitioned by payout_month.
{#- input fingerprint -> the reason word used in change_reasons (no spaces: the list is space-joined) -#}
{%- set inputs = [
    ('source_data', 'source_data'), ('plan', 'plan_version'), ('hierarchy', 'hierarchy'),
    ('quota', 'quota'), ('fx', 'fx'),
] %}
{%- set reason_parts = [] %}
{%- for name, label in inputs %}
    {%- do reason_parts.append("case when is_" ~ name ~ "_changed then ' " ~ label ~ "' else '' end") %}
{%- endfor %}
{%- do reason_parts.append("case when is_code_changed then ' code' else '' end") %}
with runs as (
    select *
    from {{ ref('fct_payout_runs') }}
    where {{ partition_window_filter('payout_month') }}
),

month_runs as (
    select distinct payout_month, run_id, run_started_at, code_version
    from runs
),

run_pairs as (
    select
        payout_month,
        run_id,
        code_version,
        lag(run_id) over (partition by payout_month order by run_started_at, run_id) as base_run_id,
        lag(code_version) over (partition by payout_month order by run_started_at, run_id) as base_code_version
    from month_runs
),

pair_payees as (
    select distinct run_pairs.payout_month, run_pairs.run_id, run_pairs.base_run_id, runs.employee_id,
        run_pairs.code_version <> run_pairs.base_code_version as is_code_changed
    from run_pairs
    inner join runs
        on runs.payout_month = run_pairs.payout_month
        and (runs.run_id = run_pairs.run_id or runs.run_id = run_pairs.base_run_id)
    where run_pairs.base_run_id is not null
),

compared as (
    select
        pair_payees.payout_month,
        pair_payees.run_id,
        pair_payees.base_run_id,
        pair_payees.employee_id,
        coalesce(current_run.currency_code, base_run.currency_code) as currency_code,
        base_run.net_payout_amount as base_net_payout_amount,
        current_run.net_payout_amount,
        cast(coalesce(current_run.net_payout_amount, 0) - coalesce(base_run.net_payout_amount, 0) as decimal(18, 2))
            as net_payout_change,
        base_run.employee_id is null as is_new_payee,
        current_run.employee_id is null as is_removed_payee,
        {%- for name, label in inputs %}
        coalesce(current_run.{{ name }}_fingerprint <> base_run.{{ name }}_fingerprint, true) as is_{{ name }}_changed,
        {%- endfor %}
        pair_payees.is_code_changed
    from pair_payees
    left join runs as current_run
        on current_run.payout_month = pair_payees.payout_month
        and current_run.run_id = pair_payees.run_id
        and current_run.employee_id = pair_payees.employee_id
    left join runs as base_run
        on base_run.payout_month = pair_payees.payout_month
        and base_run.run_id = pair_payees.base_run_id
        and base_run.employee_id = pair_payees.employee_id
    where coalesce(current_run.net_payout_amount, 0) <> coalesce(base_run.net_payout_amount, 0)
        or current_run.employee_id is null
        or base_run.employee_id is null
        or current_run.currency_code <> base_run.currency_code
)

select
    {{ dbt.concat(["run_id", "':'", "employee_id", "':'", to_text('payout_month')]) }} as run_change_id,
    payout_month,
    run_id,
    base_run_id,
    employee_id,
    currency_code,
    base_net_payout_amount,
    net_payout_amount,
    net_payout_change,
    is_new_payee,
    is_removed_payee,
    {%- for name, label in inputs %}
    is_{{ name }}_changed,
    {%- endfor %}
    is_code_changed,
    case
        when is_new_payee then 'payee_added'
        when is_removed_payee then 'payee_removed'
        else coalesce(nullif(replace(trim({{ dbt.concat(reason_parts) }}), ' ', ', '), ''), 'unexplained')
    end as change_reasons
from compared
