-- Every delivered version of every opportunity (deduplicated by version key by the loader). The commission
-- engine needs what was known when, not just the current state: a deal amended, reassigned or un-won after
-- it was paid is booked as an adjustment in the month the change became known.
select
    opportunity_id,
    account_id,
    owner_user_id,
    opportunity_type,
    stage,
    amount,
    currency as currency_code,
    close_date,
    is_closed,
    is_won,
    contract_term_months,
    last_modified as last_modified_at,
    _load_id as load_id,
    _source_row as source_row
from {{ source('crm', 'crm__opportunities') }}
