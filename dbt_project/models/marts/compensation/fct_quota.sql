{{ config(post_hook="{{ payee_row_security('quota_month') }}") }}
-- depends_on: {{ ref('team_members_monthly') }}
-- Quota per payee per month: the quota-sheet amount, converted to the pay currency, and the amount prorated
-- by active days (hire, termination, unpaid leave). Grain: one row per employee_id x quota_month.
select
    {{ dbt.concat(["quotas.employee_id", "':'", to_text('quotas.payout_month')]) }} as quota_id,
    quotas.employee_id,
    quotas.payout_month as quota_month,
    payee_months.plan_id,
    payee_months.plan_version,
    quotas.pay_currency as currency_code,
    quotas.sheet_quota_amount,
    quotas.sheet_currency,
    quotas.quota_fx_rate,
    quotas.full_quota_amount,
    quotas.days_in_month,
    quotas.active_days,
    quotas.quota_amount as prorated_quota_amount
from {{ ref('int_quota_monthly') }} as quotas
inner join {{ ref('int_payee_months') }} as payee_months
    on quotas.employee_id = payee_months.employee_id
    and quotas.payout_month = payee_months.payout_month
