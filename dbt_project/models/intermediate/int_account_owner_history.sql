-- Account ownership as closed date ranges [valid_from, valid_to]: a version is in force from the day it was
-- modified (the first version from the account's creation) until the day before the next version.
-- The owner's employee and manager are resolved per month in int_customer_retention_dimensions.
with ranged as (
    {{ version_ranges(ref('stg_crm__account_versions'), 'account_id', 'created_date') }}
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
