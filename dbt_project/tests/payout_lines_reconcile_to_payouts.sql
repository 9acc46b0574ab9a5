{{ config(meta={'dagster': {'ref': {'name': 'fct_monthly_payouts'}}}) }}
-- Singular test: for every payee-month, the ledger lines other than the payout line sum exactly to the payout
-- (to the cent), and the payout line is exactly minus that sum (each payee-month balances to zero).
with line_totals as (
    select
        employee_id,
        payout_month,
        sum(case when entry_type <> 'payout' then amount else 0 end) as line_total,
        sum(amount) as balance
    from {{ ref('fct_commission_ledger') }}
    group by employee_id, payout_month
)

select payouts.employee_id, payouts.payout_month, payouts.net_payout_amount, line_totals.line_total,
    line_totals.balance
from {{ ref('fct_monthly_payouts') }} as payouts
full outer join line_totals
    on payouts.employee_id = line_totals.employee_id
    and payouts.payout_month = line_totals.payout_month
where coalesce(line_totals.line_total, 0) <> coalesce(payouts.net_payout_amount, 0)
    or coalesce(line_totals.balance, 0) <> 0
    or payouts.employee_id is null
