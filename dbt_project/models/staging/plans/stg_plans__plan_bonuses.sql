select
    plan_id,
    plan_version,
    bonus_id,
    applies_to,
    min_contract_term_months,
    rate_on_credit,
    share_of_monthly_target_incentive
from {{ source('plans', 'plans__plan_bonuses') }}
