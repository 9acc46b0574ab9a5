{{ config(post_hook="{{ grant_read(['finance', 'manager', 'rep']) }}") }}
-- Compensation plan versions as loaded from plans/ (plans as code). Grain: one row per plan_id x plan_version.
select
    {{ dbt.concat(["plan_id", "'.v'", to_text('plan_version')]) }} as plan_version_id,
    plan_id,
    plan_version,
    plan_name,
    plan_description,
    effective_from,
    effective_to,
    tier_method,
    quota_period,
    payout_cap_multiple,
    commission_threshold,
    attainment_cap,
    rate_cap,
    pay_basis,
    attainment_basis,
    fx_policy,
    clawback_window_months,
    clawback_on_uncollectible,
    clawback_on_churn,
    draw_kind,
    draw_monthly_share,
    draw_months_from_hire,
    draw_recovery_share,
    content_hash
from {{ ref('stg_plans__plan_versions') }}
