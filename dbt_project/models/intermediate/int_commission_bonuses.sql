-- SPIFFs / bonuses from the plan version's `bonuses` list: one row per qualifying plan credit per bonus.
--  * new_logo: the deal is the account's first (opportunity_type = 'new');
--  * multi_year: contract_term_months >= the bonus's min_contract_term_months.
-- Amount: round(credit_amount * rate_on_credit, 2), or a flat
-- round(share_of_monthly_target_incentive * target_incentive_annual / 12 * split_percent / 100, 2), so a deal
-- split 60/40 pays one flat bonus in total. Bonuses are not subject to the commission threshold; they count
-- towards the payout cap. Grain: one row per commission_line_id (payee credit x bonus).
with plan_credits as (
    select
        payee_credit_id, employee_id, payout_month, plan_id, plan_version, credit_type, opportunity_id,
        opportunity_type, contract_term_months, split_id, split_percent, credited_rep_employee_id, rollup_level,
        close_date, deal_currency, credit_amount_deal_currency, pay_currency, fx_rate, fx_rate_date, credit_amount
    from {{ ref('int_plan_credits') }}
),

bonuses as (
    select
        plan_id, plan_version, bonus_id, applies_to, min_contract_term_months, rate_on_credit,
        share_of_monthly_target_incentive
    from {{ ref('stg_plans__plan_bonuses') }}
),

payee_months as (
    select employee_id, payout_month, target_incentive_annual
    from {{ ref('int_payee_months') }}
),

qualifying as (
    select
        plan_credits.*,
        bonuses.bonus_id,
        bonuses.applies_to,
        bonuses.min_contract_term_months,
        bonuses.rate_on_credit,
        bonuses.share_of_monthly_target_incentive,
        payee_months.target_incentive_annual
    from plan_credits
    inner join bonuses
        on plan_credits.plan_id = bonuses.plan_id
        and plan_credits.plan_version = bonuses.plan_version
    inner join payee_months
        on plan_credits.employee_id = payee_months.employee_id
        and plan_credits.payout_month = payee_months.payout_month
    where (bonuses.applies_to = 'new_logo' and plan_credits.opportunity_type = 'new')
        or (
            bonuses.applies_to = 'multi_year'
            and plan_credits.contract_term_months >= bonuses.min_contract_term_months
        )
)

select
    {{ dbt.concat(["payee_credit_id", "':bonus:'", "bonus_id"]) }} as commission_line_id,
    payee_credit_id,
    employee_id,
    payout_month,
    plan_id,
    plan_version,
    bonus_id,
    applies_to,
    min_contract_term_months,
    rate_on_credit,
    share_of_monthly_target_incentive,
    target_incentive_annual,
    credit_type,
    opportunity_id,
    opportunity_type,
    contract_term_months,
    split_id,
    split_percent,
    credited_rep_employee_id,
    rollup_level,
    close_date,
    deal_currency,
    credit_amount_deal_currency,
    pay_currency,
    fx_rate,
    fx_rate_date,
    credit_amount,
    case
        when rate_on_credit is not null then cast(round(credit_amount * rate_on_credit, 2) as decimal(18, 2))
        else cast(
            round(share_of_monthly_target_incentive * target_incentive_annual / 12 * split_percent / 100, 2)
            as decimal(18, 2)
        )
    end as bonus_amount
from qualifying
