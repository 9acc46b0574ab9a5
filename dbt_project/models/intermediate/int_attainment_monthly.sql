-- One row per payee per month, for attainment reporting: the credit counted in the month (credits the
-- payee's plan counts, closed in the month, as known at the month end, net of clawbacks) and the month's
-- prorated monthly quota (null when the sheet has no monthly row, e.g. for a quarterly plan: its period
-- attainment is in fct_monthly_payouts). Pay is computed per plan segment by the commission engine.
with payee_months as (
    select employee_id, payout_month, pay_currency, plan_id, plan_version, target_incentive_annual
    from {{ ref('int_payee_months') }}
),

quotas as (
    select employee_id, payout_month, full_quota_amount, quota_amount
    from {{ ref('int_quota_monthly') }}
),

credited as (
    select employee_id, evaluation_month as payout_month, sum(counted_credit_amount) as credited_amount,
        count(*) as credit_count
    from {{ ref('int_commission_evaluation_credits') }}
    where credit_month = evaluation_month
    group by employee_id, evaluation_month
)

select
    payee_months.employee_id,
    payee_months.payout_month,
    payee_months.pay_currency,
    payee_months.plan_id,
    payee_months.plan_version,
    payee_months.target_incentive_annual,
    quotas.full_quota_amount,
    quotas.quota_amount,
    cast(coalesce(credited.credited_amount, 0) as decimal(18, 2)) as credited_amount,
    coalesce(credited.credit_count, 0) as credit_count,
    case
        when quotas.quota_amount > 0
            then {{ exact_division('coalesce(credited.credited_amount, 0)', 'quotas.quota_amount') }}
    end as attainment
from payee_months
left join quotas
    on payee_months.employee_id = quotas.employee_id
    and payee_months.payout_month = quotas.payout_month
left join credited
    on payee_months.employee_id = credited.employee_id
    and payee_months.payout_month = credited.payout_month
