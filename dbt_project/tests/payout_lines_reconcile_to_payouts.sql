{{ config(meta={'dagster': {'ref': {'name': 'fct_monthly_payouts'}}}) }}
-- Singular test: for every payee-month, the commission lines sum exactly to the payout (to the cent).
with line_totals as (
    select employee_id, payout_month, sum(commission_amount) as line_total
    from {{ ref('fct_commission_lines') }}
    group by employee_id, payout_month
)

select payouts.employee_id, payouts.payout_month, payouts.net_payout_amount, line_totals.line_total
from {{ ref('fct_monthly_payouts') }} as payouts
left join line_totals
    on payouts.employee_id = line_totals.employee_id
    and payouts.payout_month = line_totals.payout_month
where coalesce(line_totals.line_total, 0) <> payouts.net_payout_amount
