-- Customer ARR per month (reporting currency) with its movement type, enriched with the CRM account's
-- segment, region and owner. Grain: one row per customer_id x arr_month.
select
    arr.customer_month_id,
    arr.customer_id,
    customers.account_id,
    accounts.segment,
    accounts.region,
    accounts.owner_user_id,
    {{ month_start('customers.created_at') }} as signup_cohort_month,
    arr.arr_month,
    '{{ var("reporting_currency") }}' as currency_code,
    arr.arr,
    arr.previous_arr,
    arr.arr_change,
    arr.movement_type
from {{ ref('int_customer_arr_monthly') }} as arr
inner join {{ ref('stg_billing__customers') }} as customers
    on arr.customer_id = customers.customer_id
left join {{ ref('stg_crm__accounts') }} as accounts
    on customers.account_id = accounts.account_id
