-- Every payee-month that gets a payout row: each month a payee is employed with a plan (int_payee_months),
-- plus any later month in which commission entries are booked for them (a clawback or adjustment after
-- termination). Attributes come from the payee-month, or are null after termination.
-- Grain: one row per employee_id x payout_month.
with entry_months as (
    select distinct employee_id, payout_month
    from {{ ref('int_commission_entries') }}
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
    coalesce(payee_months.pay_currency, history.pay_currency) as pay_currency,
    payee_months.plan_id,
    payee_months.plan_version,
    payee_months.target_incentive_annual,
    payee_months.active_days,
    payee_months.days_in_month,
    coalesce(payee_months.hire_date, history.hire_date) as hire_date
from all_months
left join {{ ref('int_payee_months') }} as payee_months
    on all_months.employee_id = payee_months.employee_id
    and all_months.payout_month = payee_months.payout_month
left join (
    select employee_id, pay_currency, hire_date,
        row_number() over (partition by employee_id order by valid_from desc) as recency_rank
    from {{ ref('int_employee_history') }}
) as history
    on all_months.employee_id = history.employee_id
    and history.recency_rank = 1
