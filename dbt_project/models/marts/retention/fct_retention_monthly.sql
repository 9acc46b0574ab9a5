-- Monthly ARR movements and trailing-twelve-month retention by segment (segment 'All' = whole company).
--   NRR = ARR now of the customers that had ARR 12 months ago / their ARR 12 months ago
--   GRR = same, but each customer's ARR now capped at its ARR 12 months ago (expansion excluded)
-- Null until 12 months of history exist. Grain: one row per arr_month x segment.
with customer_arr as (
    select customer_id, coalesce(segment, 'Unknown') as segment, arr_month, arr, previous_arr, arr_change,
        movement_type
    from {{ ref('fct_customer_arr_monthly') }}
),

segments as (
    select customer_id, arr_month, arr, previous_arr, arr_change, movement_type, segment from customer_arr
    union all
    select customer_id, arr_month, arr, previous_arr, arr_change, movement_type, 'All' as segment from customer_arr
),

year_ago as (
    select
        ago.segment,
        now_rows_month.month_start as arr_month,
        ago.customer_id,
        ago.arr as arr_year_ago,
        coalesce(now_rows.arr, 0) as arr_now
    from segments as ago
    inner join {{ ref('int_calendar_months') }} as now_rows_month
        on now_rows_month.month_start = cast({{ dbt.dateadd('month', 12, 'ago.arr_month') }} as date)
    left join segments as now_rows
        on ago.customer_id = now_rows.customer_id
        and ago.segment = now_rows.segment
        and now_rows.arr_month = now_rows_month.month_start
    where ago.arr > 0
),

retention as (
    select
        year_ago.segment,
        year_ago.arr_month,
        sum(year_ago.arr_year_ago) as starting_arr_12m,
        sum(year_ago.arr_now) as retained_arr_12m,
        sum(case when year_ago.arr_now < year_ago.arr_year_ago then year_ago.arr_now else year_ago.arr_year_ago end)
            as gross_retained_arr_12m
    from year_ago
    group by year_ago.segment, year_ago.arr_month
),

movements as (
    select
        segment,
        arr_month,
        sum(arr) as ending_arr,
        sum(case when arr > 0 then 1 else 0 end) as customer_count,
        sum(case when movement_type = 'new' then arr_change else 0 end) as new_arr,
        sum(case when movement_type = 'reactivation' then arr_change else 0 end) as reactivation_arr,
        sum(case when movement_type = 'expansion' then arr_change else 0 end) as expansion_arr,
        sum(case when movement_type = 'contraction' then arr_change else 0 end) as contraction_arr,
        sum(case when movement_type = 'churn' then arr_change else 0 end) as churned_arr,
        sum(case when movement_type = 'churn' then 1 else 0 end) as churned_customers
    from segments
    group by segment, arr_month
)

select
    {{ dbt.concat(["movements.segment", "':'", to_text('movements.arr_month')]) }} as retention_id,
    movements.arr_month,
    movements.segment,
    '{{ var("reporting_currency") }}' as currency_code,
    cast(movements.ending_arr as decimal(18, 2)) as ending_arr,
    movements.customer_count,
    cast(movements.new_arr as decimal(18, 2)) as new_arr,
    cast(movements.reactivation_arr as decimal(18, 2)) as reactivation_arr,
    cast(movements.expansion_arr as decimal(18, 2)) as expansion_arr,
    cast(movements.contraction_arr as decimal(18, 2)) as contraction_arr,
    cast(movements.churned_arr as decimal(18, 2)) as churned_arr,
    movements.churned_customers,
    cast(retention.starting_arr_12m as decimal(18, 2)) as starting_arr_12m,
    case when retention.starting_arr_12m > 0
        then cast(round(retention.retained_arr_12m / retention.starting_arr_12m, 4) as decimal(9, 4)) end
        as net_revenue_retention_12m,
    case when retention.starting_arr_12m > 0
        then cast(round(retention.gross_retained_arr_12m / retention.starting_arr_12m, 4) as decimal(9, 4)) end
        as gross_revenue_retention_12m
from movements
left join retention
    on movements.segment = retention.segment
    and movements.arr_month = retention.arr_month
