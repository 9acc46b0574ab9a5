-- Account ownership as closed date ranges [valid_from, valid_to]: a version is in force from the day it was
-- modified (the first version from the account's creation) until the day before the next version.
-- The owner's employee and manager are resolved per month in int_customer_retention_dimensions.
with versions as (
    select
        account_id, segment, region, owner_user_id, created_date, last_modified_at, load_id,
        row_number() over (partition by account_id order by last_modified_at, load_id) as version_number
    from {{ ref('stg_crm__account_versions') }}
),

ranged as (
    select
        versions.*,
        case when version_number = 1 then created_date else cast(last_modified_at as date) end as valid_from,
        lead(cast(last_modified_at as date)) over (partition by account_id order by version_number)
            as next_valid_from
    from versions
)

select
    account_id,
    version_number,
    valid_from,
    coalesce(cast({{ dbt.dateadd('day', -1, 'next_valid_from') }} as date), {{ end_of_time() }}) as valid_to,
    segment,
    region,
    owner_user_id
from ranged
where next_valid_from is null or next_valid_from > valid_from
