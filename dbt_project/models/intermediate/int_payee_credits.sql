-- Every credit version a payee receives, personal (revenue, overlay) and team (roll-up), in deal currency.
-- payee_credit_id identifies the credit across versions (a deal's amount edit keeps the id and changes the
-- amount; an owner reassignment ends one payee's credit and starts another's).
-- Grain: one row per payee_credit_version_id.
with personal_credits as (
    select
        credit_version_id as payee_credit_version_id,
        credit_line_id as payee_credit_id,
        credit_line_id,
        known_from_month,
        known_to_month,
        employee_id,
        credit_type,
        opportunity_id,
        account_id,
        opportunity_type,
        contract_term_months,
        split_id,
        split_percent,
        employee_id as credited_rep_employee_id,
        0 as rollup_level,
        close_date,
        credit_month,
        deal_amount,
        deal_currency,
        credit_amount_deal_currency
    from {{ ref('int_opportunity_credits') }}
    where employee_id is not null
),

team_credits as (
    select
        team.team_credit_version_id as payee_credit_version_id,
        team.team_credit_id as payee_credit_id,
        team.credit_line_id,
        team.known_from_month,
        team.known_to_month,
        team.employee_id,
        'team' as credit_type,
        team.opportunity_id,
        credits.account_id,
        credits.opportunity_type,
        credits.contract_term_months,
        team.split_id,
        credits.split_percent,
        team.credited_rep_employee_id,
        team.rollup_level,
        team.close_date,
        team.credit_month,
        credits.deal_amount,
        team.deal_currency,
        team.credit_amount_deal_currency
    from {{ ref('int_team_credits') }} as team
    inner join {{ ref('int_opportunity_credits') }} as credits
        on team.credit_version_id = credits.credit_version_id
)

select * from personal_credits
union all
select * from team_credits
