with latest as (
    {{ latest_version(source('crm', 'crm__opportunities'), ['opportunity_id'], 'last_modified') }}
)

select
    opportunity_id,
    account_id,
    owner_user_id,
    opportunity_name,
    opportunity_type,
    stage,
    amount,
    currency as currency_code,
    created_date,
    close_date,
    is_closed,
    is_won,
    contract_term_months,
    last_modified as last_modified_at,
    _load_id as load_id
from latest
