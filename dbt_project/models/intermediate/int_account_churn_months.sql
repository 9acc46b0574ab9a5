-- The months in which a CRM account's billing customer churned, by the platform's single churn definition
-- (int_customer_arr_monthly: ARR drops from above zero to zero). Clawbacks on churn read this, so pay and
-- retention can never disagree about whether a customer churned. Grain: one row per account_id x churn_month.
select distinct
    customers.account_id,
    arr.arr_month as churn_month
from {{ ref('int_customer_arr_monthly') }} as arr
inner join {{ ref('stg_billing__customers') }} as customers
    on arr.customer_id = customers.customer_id
where arr.movement_type = 'churn'
    and customers.account_id is not null
