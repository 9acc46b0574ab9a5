{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        partition_by=month_partition_by(['payout_month', 'run_id']),
        pre_hook="{{ delete_own_run_window('payout_month') }}",
        tags=['monthly_partitioned'],
        post_hook="{{ payee_row_security('payout_month') }}",
    )
}}
-- depends_on: {{ ref('team_members_monthly') }}
-- Run history: every run that builds a month (the nightly preview, a close, a backfill, a rebuild) appends
-- the month's payout rows as it computed them, with the code version and the fingerprints of the inputs
-- (int_payout_input_fingerprints). fct_payout_run_changes compares consecutive runs of a month; `spm diff`
-- compares any two. Rows are never updated; a retried run replaces only its own rows.
-- This holds unpublished preview numbers, so it is not copied to the BI serving file.
-- Grain: one row per payout_run_id (run_id x payout_id). Partitioned by payout_month.
select
    {{ dbt.concat(["'" ~ spm_run_id() ~ "'", "'@'", "payouts.payout_id"]) }} as payout_run_id,
    cast('{{ spm_run_id() }}' as {{ dbt.type_string() }}) as run_id,
    cast('{{ run_setting('spm_code_version') }}' as {{ dbt.type_string() }}) as code_version,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }}) as run_started_at,
    payouts.payout_id,
    payouts.employee_id,
    payouts.payout_month,
    payouts.currency_code,
    payouts.net_payout_amount,
    payouts.ledger_line_count,
    coalesce(fingerprints.source_data_fingerprint, 'none') as source_data_fingerprint,
    coalesce(fingerprints.plan_fingerprint, 'none') as plan_fingerprint,
    coalesce(fingerprints.hierarchy_fingerprint, 'none') as hierarchy_fingerprint,
    coalesce(fingerprints.quota_fingerprint, 'none') as quota_fingerprint,
    coalesce(fingerprints.fx_fingerprint, 'none') as fx_fingerprint
from {{ ref('fct_monthly_payouts') }} as payouts
left join {{ ref('int_payout_input_fingerprints') }} as fingerprints
    on payouts.payout_id = fingerprints.payout_id
where {{ partition_window_filter('payouts.payout_month') }}
