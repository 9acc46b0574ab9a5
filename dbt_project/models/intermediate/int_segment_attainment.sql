{{
    config(
        materialized=engine_materialization(),
        incremental_strategy='append',
        pre_hook="{{ delete_rebuilt_months('evaluation_month') }}",
        post_hook=[
            "{{ create_incremental_state() }}",
            "{{ forget_seen_loads_after_full_rebuild() }}",
            "{{ record_seen_loads() }}",
        ],
    )
}}
-- The credit and quota of a plan segment at each of its evaluations: the one definition of "credit counted and
-- quota for the plan period as known at month K".
--   counted_credit_amount  the sum of the segment's counted credits at K (int_commission_evaluation_credits:
--                          credits closed in the segment by K, as known at K, in the pay currency, after
--                          clawbacks, on the plan's attainment basis); 0 at an evaluation without credits
--   quota_amount           the segment quota (int_plan_segments: the period quota prorated by active days)
--   attainment             counted_credit_amount / quota_amount, null without a positive quota
-- The tier engine (int_commission_evaluation_amounts) takes its counted total (threshold, retroactive tier,
-- attainment cap) from here, and int_period_attainment gives the month-end segment's row to the payout preview
-- and to fct_attainment, so what a rep is paid on and what BI shows are one number.
-- Grain: one row per segment_evaluation_id (segment_id x evaluation_month).
with evaluations as (
    select segment_evaluation_id, segment_id, evaluation_month
    from {{ ref('int_segment_evaluations') }}
    -- incremental: only the months new data can change (macros/incremental_rebuild.sql)
    where {{ rebuild_filter('evaluation_month') }}
),

segments as (
    select segment_id, employee_id, pay_currency, quota_amount
    from {{ ref('int_plan_segments') }}
),

counted_credits as (
    select
        segment_id,
        evaluation_month,
        sum(counted_credit_amount) as counted_credit_amount,
        count(*) as counted_credit_count
    from {{ ref('int_commission_evaluation_credits') }}
    where {{ rebuild_filter('evaluation_month') }}
    group by segment_id, evaluation_month
),

segment_totals as (
    select
        evaluations.segment_evaluation_id,
        evaluations.segment_id,
        evaluations.evaluation_month,
        segments.employee_id,
        segments.pay_currency,
        segments.quota_amount,
        {{ fit_decimal(
            'coalesce(counted_credits.counted_credit_amount, 0)',
            'the counted credit of segment evaluation',
            'evaluations.segment_evaluation_id'
        ) }} as counted_credit_amount,
        coalesce(counted_credits.counted_credit_count, 0) as counted_credit_count
    from evaluations
    inner join segments
        on evaluations.segment_id = segments.segment_id
    left join counted_credits
        on evaluations.segment_id = counted_credits.segment_id
        and evaluations.evaluation_month = counted_credits.evaluation_month
)

select
    segment_evaluation_id,
    segment_id,
    evaluation_month,
    employee_id,
    pay_currency,
    quota_amount,
    counted_credit_amount,
    counted_credit_count,
    case when quota_amount > 0
        then {{ exact_division('counted_credit_amount', 'quota_amount') }}
    end as attainment
from segment_totals
