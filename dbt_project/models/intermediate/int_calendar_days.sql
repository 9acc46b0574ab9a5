-- One row per calendar day of the compensation horizon: the periods the quota sheet covers (months,
-- quarters and years, whichever the plans use).
-- The quota sheet defines the comp periods, so a late FX or HR feed cannot silently shorten the calendar.
with quota_bounds as (
    select
        min(period_start) as first_day,
        max(
            case period_type
                when 'quarter' then cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 3, 'period_start')) }} as date)
                when 'year' then cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 12, 'period_start')) }} as date)
                else {{ month_end('period_start') }}
            end
        ) as last_day
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
