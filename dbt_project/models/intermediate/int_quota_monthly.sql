-- One row per payee per month: the quota-sheet amount for the month, converted to the payee's pay
-- currency (at the period-start rate, when the sheet is in another currency), prorated by active days:
-- prorated = round(full quota * active_days / days_in_month, 2). A missing sheet row leaves the quota null,
-- which the publication gate reports (every plan participant must have a quota).
with payee_months as (
    select
        employee_id, payout_month, pay_currency, days_in_month, active_days, plan_id, plan_version
    from {{ ref('int_payee_months') }}
),

quota_sheet as (
    select employee_id, period_start, quota_amount, currency_code
    from {{ ref('stg_salesops__quotas') }}
    where period_type = 'month'
),

fx as (
    select rate_date, currency_code, rate_to_reporting
    from {{ ref('int_fx_rates') }}
),

converted as (
    select
        payee_months.employee_id,
        payee_months.payout_month,
        payee_months.pay_currency,
        payee_months.days_in_month,
        payee_months.active_days,
        quota_sheet.quota_amount as sheet_quota_amount,
        quota_sheet.currency_code as sheet_currency,
        {{ fx_rate(
            'quota_sheet.currency_code', 'payee_months.pay_currency',
            'sheet_fx.rate_to_reporting', 'pay_fx.rate_to_reporting',
            'payee_months.payout_month'
        ) }} as fx_rate
    from payee_months
    left join quota_sheet
        on payee_months.employee_id = quota_sheet.employee_id
        and payee_months.payout_month = quota_sheet.period_start
    left join fx as sheet_fx
        on quota_sheet.currency_code = sheet_fx.currency_code
        and quota_sheet.period_start = sheet_fx.rate_date
    left join fx as pay_fx
        on payee_months.pay_currency = pay_fx.currency_code
        and payee_months.payout_month = pay_fx.rate_date
),

with_full_quota as (
    -- exact_product and fit_decimal as in int_plan_segments (macros/amount_range.sql)
    select
        converted.*,
        {{ fit_decimal(
            'round(' ~ exact_product('sheet_quota_amount', 'fx_rate') ~ ', 2)',
            'the monthly quota converted to pay currency',
            dbt.concat([
                "'quota '", "employee_id", "':month:'", to_text('payout_month'), "' ('", "sheet_currency", "'->'",
                "pay_currency", "')'"
            ])
        ) }} as full_quota_amount
    from converted
)

select
    employee_id,
    payout_month,
    pay_currency,
    sheet_quota_amount,
    sheet_currency,
    fx_rate as quota_fx_rate,
    full_quota_amount,
    days_in_month,
    active_days,
    {{ exact_division(exact_product('full_quota_amount', 'active_days'), 'days_in_month', 2) }} as quota_amount
from with_full_quota
