-- Every delivered version of every opportunity split: the history of who shared which deal, when it was known.
select
    split_id,
    opportunity_id,
    user_id,
    split_type,
    split_percent,
    is_deleted,
    last_modified as last_modified_at,
    _load_id as load_id,
    _source_row as source_row
from {{ source('crm', 'crm__opportunity_splits') }}
