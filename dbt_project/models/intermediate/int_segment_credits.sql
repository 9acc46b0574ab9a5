-- Every credit version attached to the plan segment it counts in: the payee's segment containing the close
-- date, when the segment's plan counts the credit type. Carries the plan's pay basis, FX policy and clawback
-- settings, the end of the clawback window (close month + window_months) and the first churn of the deal's
-- account inside that window, close month included (from the platform's one churn definition).
-- Grain: one row per segment_id x payee_credit_version_id.
with segments as (
    select
        segment_id, employee_id, plan_id, plan_version, segment_start, segment_end, segment_start_month,
        segment_end_month, pay_currency
    from {{ ref('int_plan_segments') }}
),

plan_versions as (
    select
        plan_id, plan_version, pay_basis, attainment_basis, fx_policy, clawback_window_months,
        clawback_on_uncollectible, clawback_on_churn
    from {{ ref('stg_plans__plan_versions') }}
),

segment_credits as (
    select
        segments.segment_id,
        segments.segment_start_month,
        segments.pay_currency,
        segments.plan_id,
        segments.plan_version,
        plan_versions.pay_basis,
        plan_versions.attainment_basis,
        plan_versions.fx_policy,
        plan_versions.clawback_window_months,
        plan_versions.clawback_on_uncollectible,
        plan_versions.clawback_on_churn,
        plan_versions.pay_basis = 'invoice_paid'
            or plan_versions.attainment_basis = 'invoice_paid'
            or plan_versions.fx_policy = 'invoice_date'
            or plan_versions.clawback_on_uncollectible as uses_invoices,
        plan_versions.pay_basis = 'invoice_paid'
            or plan_versions.attainment_basis = 'invoice_paid'
            or plan_versions.fx_policy = 'invoice_date' as follows_every_invoice_change,
        case when plan_versions.clawback_window_months is not null
            then cast({{ dbt.dateadd('month', 'plan_versions.clawback_window_months', 'payee_credits.credit_month') }} as date)
        end as clawback_window_end_month,
        payee_credits.*
    from {{ ref('int_payee_credits') }} as payee_credits
    inner join segments
        on payee_credits.employee_id = segments.employee_id
        and payee_credits.close_date between segments.segment_start and segments.segment_end
    inner join {{ ref('stg_plans__plan_credit_types') }} as plan_credit_types
        on segments.plan_id = plan_credit_types.plan_id
        and segments.plan_version = plan_credit_types.plan_version
        and payee_credits.credit_type = plan_credit_types.credit_type
    inner join plan_versions
        on segments.plan_id = plan_versions.plan_id
        and segments.plan_version = plan_versions.plan_version
),

churns as (
    -- the first churn of the deal's account after its close month and within the plan's clawback window
    select
        segment_credits.payee_credit_version_id,
        segment_credits.segment_id,
        min(churn.churn_month) as churn_month
    from segment_credits
    inner join {{ ref('int_account_churn_months') }} as churn
        on segment_credits.account_id = churn.account_id
        and churn.churn_month >= segment_credits.credit_month
        and churn.churn_month <= segment_credits.clawback_window_end_month
    where segment_credits.clawback_on_churn
    group by segment_credits.payee_credit_version_id, segment_credits.segment_id
)

select
    segment_credits.*,
    churns.churn_month
from segment_credits
left join churns
    on segment_credits.payee_credit_version_id = churns.payee_credit_version_id
    and segment_credits.segment_id = churns.segment_id
