-- Each customer-month's ARR with the dimensions retention is reported by, as of that month end: segment, the
-- owning rep (account owner resolved to the employee active then), the rep's team (their manager then) and the
-- customer's signup cohort (month of its first ARR). Grain: one row per customer_id x arr_month.
with customer_arr as (
    select customer_id, arr_month, arr, previous_arr, arr_change, movement_type
    from {{ ref('int_customer_arr_monthly') }}
),

customers as (
    select customer_id, account_id
    from {{ ref('stg_billing__customers') }}
),

first_arr as (
    select customer_id, min(arr_month) as signup_cohort_month
    from customer_arr
    group by customer_id
),

months as (
    select month_start, month_end
    from {{ ref('int_calendar_months') }}
),

owners as (
    select account_id, valid_from, valid_to, segment, owner_user_id
    from {{ ref('int_account_owner_history') }}
),

history as (
    select employee_id, crm_user_id, manager_employee_id, valid_from, valid_to, hire_date, termination_date
    from {{ ref('int_employee_history') }}
)

select
    {{ dbt.concat(["customer_arr.customer_id", "':'", to_text('customer_arr.arr_month')]) }} as customer_month_id,
    customer_arr.customer_id,
    customer_arr.arr_month,
    customer_arr.arr,
    customer_arr.previous_arr,
    customer_arr.arr_change,
    customer_arr.movement_type,
    coalesce(owners.segment, 'Unknown') as segment,
    coalesce(history.employee_id, 'Unassigned') as rep_employee_id,
    coalesce(history.manager_employee_id, 'Unassigned') as team_manager_employee_id,
    first_arr.signup_cohort_month
from customer_arr
inner join months
    on customer_arr.arr_month = months.month_start
inner join first_arr
    on customer_arr.customer_id = first_arr.customer_id
left join customers
    on customer_arr.customer_id = customers.customer_id
left join owners
    on customers.account_id = owners.account_id
    and months.month_end between owners.valid_from and owners.valid_to
left join history
    on owners.owner_user_id = history.crm_user_id
    and months.month_end between history.valid_from and history.valid_to
    and months.month_end between history.hire_date and coalesce(history.termination_date, {{ end_of_time() }})
