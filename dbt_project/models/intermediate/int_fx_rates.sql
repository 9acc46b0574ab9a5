-- Daily FX rates to the reporting currency, one row per currency per day. Conversions between two
-- currencies go through the reporting currency: rate(A -> B) = rate(A -> USD) / rate(B -> USD), rounded to
-- 8 decimals so the rate stored on a commission line is exactly the one that was used.
select
    rate_date,
    currency_code,
    rate_to_reporting
from {{ ref('stg_fx__rates') }}
