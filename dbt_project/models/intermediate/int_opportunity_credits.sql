-- Credit versions: one row per credit a closed-won opportunity gives, per state of the deal as known at a
-- month end. The owner gets 100 % when the deal has no revenue splits; each revenue split and each overlay
-- split (extra credit on top of the 100 %) gives its own credit.
--   credit_amount_deal_currency = round(amount * split_percent / 100, 2), half up on the exact value
-- Knowledge time: a deal's state at the end of month K is its last version with last_modified in or before K
-- (the same for each split). A credit version is valid for knowledge months [known_from_month,
-- known_to_month); known_to_month is null for the current state. A deal un-won, reassigned or amended in month
-- K simply has a different set of credit versions from K on; the commission engine books the difference.
-- Conversion to pay currency happens in the engine, because the rate date is a plan policy.
-- The credited CRM user resolves to the employee active on the close date (current HR history); no match
-- leaves employee_id null, which the publication gate names.
with opportunity_states as (
    {{ knowledge_month_states(ref('stg_crm__opportunity_versions'), 'opportunity_id') }}
),

split_states as (
    {{ knowledge_month_states(ref('stg_crm__opportunity_split_versions'), 'split_id') }}
),

change_months as (
    select opportunity_id, known_month from opportunity_states
    union
    select opportunity_id, known_month from split_states
),

knowledge_ranges as (
    select
        opportunity_id,
        known_month as known_from_month,
        lead(known_month) over (partition by opportunity_id order by known_month) as known_to_month
    from change_months
),

won_opportunities as (
    select
        knowledge_ranges.known_from_month,
        knowledge_ranges.known_to_month,
        opportunity_states.opportunity_id,
        opportunity_states.account_id,
        opportunity_states.owner_user_id,
        opportunity_states.opportunity_type,
        opportunity_states.contract_term_months,
        opportunity_states.amount,
        opportunity_states.currency_code,
        opportunity_states.close_date
    from knowledge_ranges
    inner join opportunity_states
        on knowledge_ranges.opportunity_id = opportunity_states.opportunity_id
        and opportunity_states.known_month <= knowledge_ranges.known_from_month
        and (
            opportunity_states.next_known_month is null
            or opportunity_states.next_known_month > knowledge_ranges.known_from_month
        )
    where opportunity_states.is_won and opportunity_states.is_closed
),

active_splits as (
    select
        won_opportunities.opportunity_id,
        won_opportunities.known_from_month,
        split_states.split_id,
        split_states.user_id,
        split_states.split_type,
        split_states.split_percent
    from won_opportunities
    inner join split_states
        on won_opportunities.opportunity_id = split_states.opportunity_id
        and split_states.known_month <= won_opportunities.known_from_month
        and (
            split_states.next_known_month is null
            or split_states.next_known_month > won_opportunities.known_from_month
        )
    where not split_states.is_deleted
),

revenue_split_states as (
    select distinct opportunity_id, known_from_month
    from active_splits
    where split_type = 'revenue'
),

credit_shares as (
    select
        won_opportunities.opportunity_id,
        won_opportunities.known_from_month,
        cast(null as {{ dbt.type_string() }}) as split_id,
        'revenue' as credit_type,
        won_opportunities.owner_user_id as credited_user_id,
        cast(100 as decimal(9, 4)) as split_percent
    from won_opportunities
    left join revenue_split_states
        on won_opportunities.opportunity_id = revenue_split_states.opportunity_id
        and won_opportunities.known_from_month = revenue_split_states.known_from_month
    where revenue_split_states.opportunity_id is null

    union all

    select
        opportunity_id,
        known_from_month,
        split_id,
        split_type as credit_type,
        user_id as credited_user_id,
        split_percent
    from active_splits
),

credited_employees as (
    select
        credit_shares.*,
        won_opportunities.known_to_month,
        won_opportunities.account_id,
        won_opportunities.opportunity_type,
        won_opportunities.contract_term_months,
        won_opportunities.amount as deal_amount,
        won_opportunities.currency_code as deal_currency,
        won_opportunities.close_date,
        history.employee_id
    from credit_shares
    inner join won_opportunities
        on credit_shares.opportunity_id = won_opportunities.opportunity_id
        and credit_shares.known_from_month = won_opportunities.known_from_month
    left join {{ ref('int_employee_history') }} as history
        on credit_shares.credited_user_id = history.crm_user_id
        and won_opportunities.close_date between history.valid_from and history.valid_to
        and won_opportunities.close_date between history.hire_date
            and coalesce(history.termination_date, {{ end_of_time() }})
)

select
    {{ dbt.concat(["opportunity_id", "':'", "coalesce(split_id, 'owner')"]) }} as credit_line_id,
    {{ dbt.concat(["opportunity_id", "':'", "coalesce(split_id, 'owner')", "'@'", to_text('known_from_month')]) }}
        as credit_version_id,
    known_from_month,
    known_to_month,
    known_to_month is null as is_current,
    opportunity_id,
    split_id,
    credit_type,
    credited_user_id,
    employee_id,
    account_id,
    opportunity_type,
    contract_term_months,
    close_date,
    {{ month_start('close_date') }} as credit_month,
    deal_amount,
    deal_currency,
    split_percent,
    -- `* 0.01`, not `/ 100`: DuckDB divides decimals in double precision, which rounds a half cent down
    -- (38812.755 -> 38812.75); a decimal product is exact and rounds half up on every engine. exact_product:
    -- a 10,000,000,000.00 IDR deal overflowed DuckDB's 18-digit product (macros/amount_range.sql); any amount
    -- and split percent the contracts allow fits decimal(18, 2)
    {{ fit_decimal(
        'round(' ~ exact_product('deal_amount', 'split_percent * 0.01') ~ ', 2)',
        'the credit in deal currency',
        dbt.concat(["'credit '", "opportunity_id", "':'", "coalesce(split_id, 'owner')"])
    ) }} as credit_amount_deal_currency
from credited_employees
