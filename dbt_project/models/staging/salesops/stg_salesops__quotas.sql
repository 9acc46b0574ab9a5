with latest as (
    {{ latest_version(source('salesops', 'salesops__quotas'), ['employee_id', 'period_type', 'period_start'], 'updated_at') }}
)

select
    employee_id,
    period_type,
    period_start,
    quota_amount,
    currency as currency_code,
    updated_at,
    _load_id as load_id
from latest
