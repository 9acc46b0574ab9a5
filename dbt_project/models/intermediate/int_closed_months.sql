-- Closed payout months: published, and not reopened since their latest publication. A closed month's
-- published rows are final; anything computed differently for it later is booked as a prior-period
-- adjustment in the next month that is not closed (int_prior_period_adjustments).
-- Grain: one row per payout_month.
with publications as (
    select payout_month, max(published_at) as last_published_at
    from {{ published_state_relation(source('audit', 'publications'),
        {'payout_month': 'date', 'published_at': 'timestamp'}) }} as publications
    group by payout_month
),

reopenings as (
    select payout_month, max(reopened_at) as last_reopened_at
    from {{ published_state_relation(source('audit', 'month_reopenings'),
        {'payout_month': 'date', 'reopened_at': 'timestamp'}) }} as reopenings
    group by payout_month
)

select
    publications.payout_month,
    publications.last_published_at
from publications
left join reopenings
    on publications.payout_month = reopenings.payout_month
where reopenings.last_reopened_at is null
    or reopenings.last_reopened_at < publications.last_published_at
