-- Every payee-month that gets a payout row: each month a payee is employed with a plan (int_payee_months),
-- plus any later month in which commission entries are booked for them (a clawback or adjustment after
-- termination). Attributes come from the payee-month, or are null after termination; the currency after
-- termination is the one int_commission_entries booked the month's lines in (one per payee-month), so the
-- rule for it lives in one place. Grain: one row per employee_id x payout_month.
with entry_months as (
    select employee_id, payout_month, max(currency_code) as booked_currency
    from {{ ref('int_commission_entries') }}
    group by employee_id, payout_month
),

all_months as (
    select employee_id, payout_month from {{ ref('int_payee_months') }}
    union
    select employee_id, payout_month from entry_months
)

select
    {{ dbt.concat(["all_months.employee_id", "':'", to_text('all_months.payout_month')]) }} as payout_id,
    all_months.employee_id,
    all_months.payout_month,
    payee_months.employee_id is not null as is_employed_with_plan,
    payee_months.job_role,
    payee_months.manager_employee_id,
    payee_months.region,
    coalesce(payee_months.pay_currency, entry_months.booked_currency) as pay_currency,
    payee_months.plan_id,
    payee_months.plan_version,
    payee_months.target_incentive_annual,
    payee_months.active_days,
    payee_months.days_in_month,
    payee_months.hire_date
from all_months
left join {{ ref('int_payee_months') }} as payee_months
    on all_months.employee_id = payee_months.employee_id
    and all_months.payout_month = payee_months.payout_month
left join entry_months
    on all_months.employee_id = entry_months.employee_id
    and all_months.payout_month = entry_months.payout_month
