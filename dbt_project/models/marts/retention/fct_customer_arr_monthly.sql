{{ config(post_hook="{{ grant_read(['finance']) }}") }}
-- Customer ARR per month (reporting currency) with its movement type and the dimensions retention is reported
-- by, as of that month end (segment, owning rep, rep's team, signup cohort = month of first ARR), plus the CRM
-- account and its current region. Grain: one row per customer_month_id (customer_id x arr_month).
select
    dims.customer_month_id,
    dims.customer_id,
    customers.account_id,
    dims.segment,
    accounts.region,
    dims.rep_employee_id,
    dims.team_manager_employee_id,
    dims.signup_cohort_month,
    dims.arr_month,
    '{{ var("reporting_currency") }}' as currency_code,
    dims.arr,
    dims.previous_arr,
    dims.arr_change,
    dims.movement_type
from {{ ref('int_customer_retention_dimensions') }} as dims
inner join {{ ref('stg_billing__customers') }} as customers
    on dims.customer_id = customers.customer_id
left join {{ ref('stg_crm__accounts') }} as accounts
    on customers.account_id = accounts.account_id
