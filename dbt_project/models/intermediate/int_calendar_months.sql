with months as (
    select distinct month_start
    from {{ ref('int_calendar_days') }}
)

select
    month_start,
    {{ month_end('month_start') }} as month_end,
    {{ dbt.datediff('month_start', month_end('month_start'), 'day') }} + 1 as days_in_month,
    cast({{ dbt.date_trunc('quarter', 'month_start') }} as date) as quarter_start,
    cast({{ dbt.date_trunc('year', 'month_start') }} as date) as year_start
from months
