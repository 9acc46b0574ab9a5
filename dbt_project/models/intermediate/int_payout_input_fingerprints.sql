{{
    config(
        materialized=engine_materialization(),
        incremental_strategy='append',
        pre_hook="{{ delete_rebuilt_months('payout_month') }}",
        post_hook=[
            "{{ create_incremental_state() }}",
            "{{ forget_seen_loads_after_full_rebuild() }}",
            "{{ record_seen_loads() }}",
        ],
    )
}}
-- What each payee-month's payout was computed from, as one fingerprint per kind of input, so two runs of a
-- month can say *why* a payout changed (fct_payout_run_changes) without storing every input of every run:
--   source_data  the CRM and billing facts of the credits evaluated: opportunity, split, amount, close date,
--                when it was known, invoice payments and write-offs, churn
--   plan         plan id, version and plan-file content hash of every segment involved
--   hierarchy    the payee's HR history (role, manager, region, employment dates) and how each credit reached
--                them (credited rep, roll-up level)
--   quota        the quota-sheet rows behind every segment involved
--   fx           the FX rates used for credits and quotas
-- The segments involved in a month are those active in it, those booking late entries in it and those of
-- the closed months its prior-period adjustments re-price; their evaluations up to the month are what the
-- month's lines are computed from.
-- Grain: one row per payout_id (employee_id x payout_month).
with payout_months as (
    select payout_id, employee_id, payout_month
    from {{ ref('int_payout_months') }}
    -- incremental: only the months new data can change (macros/incremental_rebuild.sql); fct_payout_runs reads
    -- the run's partition months, which are always among them
    where {{ rebuild_filter('payout_month') }}
),

segments as (
    select *
    from {{ ref('int_plan_segments') }}
),

involved_segments as (
    select payout_months.payout_id, payout_months.payout_month, segments.segment_id
    from payout_months
    inner join segments
        on payout_months.employee_id = segments.employee_id
        and payout_months.payout_month between segments.segment_start_month and segments.segment_end_month

    union

    select payout_months.payout_id, payout_months.payout_month, entries.segment_id
    from payout_months
    inner join {{ ref('int_commission_entries') }} as entries
        on payout_months.employee_id = entries.employee_id
        and payout_months.payout_month = entries.payout_month

    union

    -- a prior-period adjustment in the month re-prices a closed month: its segments' inputs count too
    select payout_months.payout_id, payout_months.payout_month, segments.segment_id
    from payout_months
    inner join {{ ref('int_prior_period_adjustments') }} as adjustments
        on payout_months.employee_id = adjustments.employee_id
        and payout_months.payout_month = adjustments.payout_month
    inner join segments
        on adjustments.employee_id = segments.employee_id
        and adjustments.adjusted_month between segments.segment_start_month and segments.segment_end_month
),

evaluation_inputs as (
    select
        involved_segments.payout_id,
        {{ row_fingerprint([
            'credits.evaluation_month', 'credits.payee_credit_version_id', 'credits.known_from_month',
            'credits.opportunity_id', 'credits.split_id', 'credits.split_percent', 'credits.close_date',
            'credits.deal_amount', 'credits.deal_currency', 'credits.credit_amount_deal_currency',
            'credits.paid_amount', 'credits.uncollectible_amount', 'credits.churn_month',
        ]) }} as source_row,
        {{ row_fingerprint(['credits.payee_credit_id', 'credits.credited_rep_employee_id', 'credits.rollup_level']) }}
            as hierarchy_row,
        {{ row_fingerprint(['credits.evaluation_month', 'credits.payee_credit_id', 'credits.fx_rate',
            'credits.fx_rate_date']) }} as fx_row
    from involved_segments
    inner join {{ ref('int_commission_evaluation_credits') }} as credits
        on involved_segments.segment_id = credits.segment_id
        and credits.evaluation_month <= involved_segments.payout_month
),

segment_inputs as (
    select
        involved_segments.payout_id,
        {{ row_fingerprint(['segments.segment_id', 'segments.plan_id', 'segments.plan_version',
            'plan_versions.content_hash']) }} as plan_row,
        {{ row_fingerprint(['segments.segment_id', 'segments.period_start', 'segments.sheet_quota_amount',
            'segments.sheet_currency']) }} as quota_row,
        {{ row_fingerprint(['segments.segment_id', 'segments.quota_fx_rate']) }} as fx_row
    from involved_segments
    inner join segments
        on involved_segments.segment_id = segments.segment_id
    inner join {{ ref('stg_plans__plan_versions') }} as plan_versions
        on segments.plan_id = plan_versions.plan_id
        and segments.plan_version = plan_versions.plan_version
),

hr_inputs as (
    select
        payout_months.payout_id,
        -- the HR history as it stood by the month's end: an end date or termination after it is not an input
        -- of this month yet (a termination in March does not change January's fingerprint)
        {%- set payout_month_end = month_end('payout_months.payout_month') %}
        {{ row_fingerprint([
            'history.valid_from',
            'case when history.valid_to <= ' ~ payout_month_end ~ ' then history.valid_to end',
            'history.job_role', 'history.manager_employee_id', 'history.region', 'history.pay_currency',
            'history.target_incentive_annual', 'history.hire_date',
            'case when history.termination_date <= ' ~ payout_month_end ~ ' then history.termination_date end',
        ]) }} as hierarchy_row
    from payout_months
    inner join {{ ref('int_employee_history') }} as history
        on payout_months.employee_id = history.employee_id
        and history.valid_from <= {{ month_end('payout_months.payout_month') }}
),

source_fingerprints as (
    select payout_id, {{ set_fingerprint('source_row') }} as fingerprint
    from evaluation_inputs
    group by payout_id
),

plan_fingerprints as (
    select payout_id, {{ set_fingerprint('plan_row') }} as fingerprint
    from segment_inputs
    group by payout_id
),

quota_fingerprints as (
    select payout_id, {{ set_fingerprint('quota_row') }} as fingerprint
    from segment_inputs
    group by payout_id
),

hierarchy_rows as (
    select payout_id, hierarchy_row from evaluation_inputs
    union
    select payout_id, hierarchy_row from hr_inputs
),

hierarchy_fingerprints as (
    select payout_id, {{ set_fingerprint('hierarchy_row') }} as fingerprint
    from hierarchy_rows
    group by payout_id
),

fx_rows as (
    select payout_id, fx_row from evaluation_inputs
    union
    select payout_id, fx_row from segment_inputs
),

fx_fingerprints as (
    select payout_id, {{ set_fingerprint('fx_row') }} as fingerprint
    from fx_rows
    group by payout_id
)

select
    payout_months.payout_id,
    payout_months.employee_id,
    payout_months.payout_month,
    coalesce(source_fingerprints.fingerprint, 'none') as source_data_fingerprint,
    coalesce(plan_fingerprints.fingerprint, 'none') as plan_fingerprint,
    coalesce(hierarchy_fingerprints.fingerprint, 'none') as hierarchy_fingerprint,
    coalesce(quota_fingerprints.fingerprint, 'none') as quota_fingerprint,
    coalesce(fx_fingerprints.fingerprint, 'none') as fx_fingerprint
from payout_months
left join source_fingerprints on payout_months.payout_id = source_fingerprints.payout_id
left join plan_fingerprints on payout_months.payout_id = plan_fingerprints.payout_id
left join hierarchy_fingerprints on payout_months.payout_id = hierarchy_fingerprints.payout_id
left join quota_fingerprints on payout_months.payout_id = quota_fingerprints.payout_id
left join fx_fingerprints on payout_months.payout_id = fx_fingerprints.payout_id
