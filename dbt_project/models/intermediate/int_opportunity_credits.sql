-- One row per credit a closed-won opportunity gives: the owner's 100 % (when the deal has no revenue
-- splits), each revenue split, and each overlay split (extra credit on top of the 100 %).
-- The credited CRM user is resolved to the employee active on the close date; amounts are converted to
-- that employee's pay currency at the close-date rate:
--   credit_amount_deal_currency = round(amount * split_percent / 100, 2)
--   credit_amount               = round(credit_amount_deal_currency * fx_rate, 2)
-- Credits whose user maps to no active employee keep a null employee_id: the publication gate names them.
with won_opportunities as (
    select
        opportunity_id, account_id, owner_user_id, opportunity_type, contract_term_months, amount, currency_code,
        close_date
    from {{ ref('stg_crm__opportunities') }}
    where is_won and is_closed
),

active_splits as (
    select split_id, opportunity_id, user_id, split_type, split_percent
    from {{ ref('stg_crm__opportunity_splits') }}
    where not is_deleted
),

revenue_split_opportunities as (
    select distinct opportunity_id
    from active_splits
    where split_type = 'revenue'
),

credit_shares as (
    select
        won_opportunities.opportunity_id,
        cast(null as {{ dbt.type_string() }}) as split_id,
        'revenue' as credit_type,
        won_opportunities.owner_user_id as credited_user_id,
        cast(100 as decimal(9, 4)) as split_percent
    from won_opportunities
    left join revenue_split_opportunities
        on won_opportunities.opportunity_id = revenue_split_opportunities.opportunity_id
    where revenue_split_opportunities.opportunity_id is null

    union all

    select
        active_splits.opportunity_id,
        active_splits.split_id,
        active_splits.split_type as credit_type,
        active_splits.user_id as credited_user_id,
        active_splits.split_percent
    from active_splits
    inner join won_opportunities
        on active_splits.opportunity_id = won_opportunities.opportunity_id
),

credited_employees as (
    select
        credit_shares.*,
        won_opportunities.account_id,
        won_opportunities.opportunity_type,
        won_opportunities.contract_term_months,
        won_opportunities.amount as deal_amount,
        won_opportunities.currency_code as deal_currency,
        won_opportunities.close_date,
        history.employee_id,
        history.pay_currency
    from credit_shares
    inner join won_opportunities
        on credit_shares.opportunity_id = won_opportunities.opportunity_id
    left join {{ ref('int_employee_history') }} as history
        on credit_shares.credited_user_id = history.crm_user_id
        and won_opportunities.close_date between history.valid_from and history.valid_to
        and won_opportunities.close_date between history.hire_date
            and coalesce(history.termination_date, {{ end_of_time() }})
),

with_fx as (
    select
        credited_employees.*,
        cast(round(credited_employees.deal_amount * credited_employees.split_percent / 100, 2) as decimal(18, 2))
            as credit_amount_deal_currency,
        {{ fx_rate(
            'credited_employees.deal_currency', 'credited_employees.pay_currency',
            'deal_fx.rate_to_reporting', 'pay_fx.rate_to_reporting'
        ) }} as fx_rate
    from credited_employees
    left join {{ ref('int_fx_rates') }} as deal_fx
        on credited_employees.deal_currency = deal_fx.currency_code
        and credited_employees.close_date = deal_fx.rate_date
    left join {{ ref('int_fx_rates') }} as pay_fx
        on credited_employees.pay_currency = pay_fx.currency_code
        and credited_employees.close_date = pay_fx.rate_date
)

select
    {{ dbt.concat(["opportunity_id", "':'", "coalesce(split_id, 'owner')"]) }} as credit_line_id,
    opportunity_id,
    split_id,
    credit_type,
    credited_user_id,
    employee_id,
    account_id,
    opportunity_type,
    contract_term_months,
    close_date,
    {{ month_start('close_date') }} as credit_month,
    deal_amount,
    deal_currency,
    split_percent,
    credit_amount_deal_currency,
    pay_currency,
    fx_rate,
    close_date as fx_rate_date,
    cast(round(credit_amount_deal_currency * fx_rate, 2) as decimal(18, 2)) as credit_amount
from with_fx
