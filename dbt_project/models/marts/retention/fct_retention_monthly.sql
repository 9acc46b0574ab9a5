{{ config(post_hook="{{ grant_read(['finance']) }}") }}
-- Monthly ARR movements and trailing-twelve-month retention, by dimension:
--   company (value 'All'), segment, rep (account owner's employee), team (that rep's manager) and
--   signup_cohort (month of first ARR). Dimension values are taken as of each month end; the 12-month cohort
--   of a (dimension, value) is the customers attributed to it 12 months earlier, wherever they sit now.
--   NRR  = ARR now of the cohort / its ARR 12 months ago
--   GRR  = same, each customer's ARR now capped at its ARR 12 months ago (expansion excluded)
--   logo retention = cohort customers still with ARR now / cohort customers
-- Null until 12 months of history exist. Grain: one row per retention_id (dimension x value x arr_month).
with customer_months as (
    select
        customer_id, arr_month, arr, previous_arr, arr_change, movement_type, segment, rep_employee_id,
        team_manager_employee_id, signup_cohort_month
    from {{ ref('int_customer_retention_dimensions') }}
),

{%- set dimensions = {
    'company': "'All'",
    'segment': 'segment',
    'rep': 'rep_employee_id',
    'team': 'team_manager_employee_id',
    'signup_cohort': to_text('signup_cohort_month'),
} %}

dimensioned as (
    {% for dimension, value in dimensions.items() %}
    select
        '{{ dimension }}' as dimension,
        {{ value }} as dimension_value,
        customer_id, arr_month, arr, previous_arr, arr_change, movement_type
    from customer_months
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

months as (
    select month_start
    from {{ ref('int_calendar_months') }}
),

cohort_now as (
    select
        cohort.dimension,
        cohort.dimension_value,
        now_month.month_start as arr_month,
        cohort.customer_id,
        cohort.arr as arr_year_ago,
        coalesce(now_rows.arr, 0) as arr_now
    from dimensioned as cohort
    inner join months as now_month
        on now_month.month_start = cast({{ dbt.dateadd('month', 12, 'cohort.arr_month') }} as date)
    left join customer_months as now_rows
        on cohort.customer_id = now_rows.customer_id
        and now_rows.arr_month = now_month.month_start
    where cohort.arr > 0
),

retention as (
    select
        dimension,
        dimension_value,
        arr_month,
        sum(arr_year_ago) as starting_arr_12m,
        sum(arr_now) as retained_arr_12m,
        sum(case when arr_now < arr_year_ago then arr_now else arr_year_ago end) as gross_retained_arr_12m,
        count(*) as starting_customers_12m,
        sum(case when arr_now > 0 then 1 else 0 end) as retained_customers_12m
    from cohort_now
    group by dimension, dimension_value, arr_month
),

movements as (
    select
        dimension,
        dimension_value,
        arr_month,
        sum(arr) as ending_arr,
        sum(case when arr > 0 then 1 else 0 end) as customer_count,
        sum(case when movement_type = 'new' then arr_change else 0 end) as new_arr,
        sum(case when movement_type = 'reactivation' then arr_change else 0 end) as reactivation_arr,
        sum(case when movement_type = 'expansion' then arr_change else 0 end) as expansion_arr,
        sum(case when movement_type = 'contraction' then arr_change else 0 end) as contraction_arr,
        sum(case when movement_type = 'churn' then arr_change else 0 end) as churned_arr,
        sum(case when movement_type = 'churn' then 1 else 0 end) as churned_customers
    from dimensioned
    group by dimension, dimension_value, arr_month
),

report_keys as (
    -- a cohort can outlive its dimension value (a rep who left still has a 12-month cohort to report)
    select dimension, dimension_value, arr_month from movements
    union
    select dimension, dimension_value, arr_month from retention
)

select
    {{ dbt.concat(["report_keys.dimension", "':'", "report_keys.dimension_value", "':'", to_text('report_keys.arr_month')]) }}
        as retention_id,
    report_keys.arr_month,
    report_keys.dimension,
    report_keys.dimension_value,
    '{{ var("reporting_currency") }}' as currency_code,
    cast(coalesce(movements.ending_arr, 0) as decimal(18, 2)) as ending_arr,
    coalesce(movements.customer_count, 0) as customer_count,
    cast(coalesce(movements.new_arr, 0) as decimal(18, 2)) as new_arr,
    cast(coalesce(movements.reactivation_arr, 0) as decimal(18, 2)) as reactivation_arr,
    cast(coalesce(movements.expansion_arr, 0) as decimal(18, 2)) as expansion_arr,
    cast(coalesce(movements.contraction_arr, 0) as decimal(18, 2)) as contraction_arr,
    cast(coalesce(movements.churned_arr, 0) as decimal(18, 2)) as churned_arr,
    coalesce(movements.churned_customers, 0) as churned_customers,
    cast(retention.starting_arr_12m as decimal(18, 2)) as starting_arr_12m,
    retention.starting_customers_12m,
    case when retention.starting_arr_12m > 0
        then cast({{ exact_division('retention.retained_arr_12m', 'retention.starting_arr_12m', 4) }} as decimal(9, 4)) end
        as net_revenue_retention_12m,
    case when retention.starting_arr_12m > 0
        then cast({{ exact_division('retention.gross_retained_arr_12m', 'retention.starting_arr_12m', 4) }} as decimal(9, 4)) end
        as gross_revenue_retention_12m,
    case when retention.starting_customers_12m > 0
        then cast({{ exact_division('1.0 * retention.retained_customers_12m', 'retention.starting_customers_12m', 4) }} as decimal(9, 4))
    end as logo_retention_12m
from report_keys
left join movements
    on report_keys.dimension = movements.dimension
    and report_keys.dimension_value = movements.dimension_value
    and report_keys.arr_month = movements.arr_month
left join retention
    on report_keys.dimension = retention.dimension
    and report_keys.dimension_value = retention.dimension_value
    and report_keys.arr_month = retention.arr_month
