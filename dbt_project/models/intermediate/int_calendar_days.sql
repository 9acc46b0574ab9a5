-- One row per calendar day of the compensation horizon: from the first quota period's start to the end of the
-- last month in which a quota period (month, quarter or year) starts. A quarter or year that starts in the last
-- month does not stretch the horizon beyond it: later months arrive with their own monthly data.
-- The quota sheet defines the comp periods, so a late FX or HR feed cannot silently shorten the calendar.
with quota_bounds as (
    select
        min(period_start) as first_day,
        max({{ month_end('period_start') }}) as last_day
    from {{ ref('stg_salesops__quotas') }}
),

days as (
    select cast({{ dbt.dateadd('day', 'integers.n', 'quota_bounds.first_day') }} as date) as date_day
    from quota_bounds
    cross join {{ integers(5) }} as integers
    where integers.n <= {{ dbt.datediff('quota_bounds.first_day', 'quota_bounds.last_day', 'day') }}
)

select
    date_day,
    {{ month_start('date_day') }} as month_start
from days
