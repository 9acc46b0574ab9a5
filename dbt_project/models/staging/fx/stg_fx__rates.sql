with latest as (
    {{ latest_version(source('fx', 'fx__rates'), ['rate_date', 'currency'], '_loaded_at') }}
)

select
    rate_date,
    currency as currency_code,
    rate_to_reporting,
    _load_id as load_id
from latest
