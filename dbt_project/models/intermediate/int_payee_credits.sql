-- Every credit a payee receives, personal (revenue, overlay) and team (roll-up), in the payee's pay
-- currency. Grain: one row per payee_credit_id.
with personal_credits as (
    select
        credit_line_id as payee_credit_id,
        credit_line_id,
        employee_id,
        credit_type,
        opportunity_id,
        opportunity_type,
        contract_term_months,
        split_id,
        split_percent,
        employee_id as credited_rep_employee_id,
        0 as rollup_level,
        close_date,
        credit_month,
        deal_currency,
        credit_amount_deal_currency,
        pay_currency,
        fx_rate,
        fx_rate_date,
        credit_amount
    from {{ ref('int_opportunity_credits') }}
    where employee_id is not null
),

team_credits as (
    select
        team.team_credit_id as payee_credit_id,
        team.credit_line_id,
        team.employee_id,
        'team' as credit_type,
        team.opportunity_id,
        credits.opportunity_type,
        credits.contract_term_months,
        team.split_id,
        credits.split_percent,
        team.credited_rep_employee_id,
        team.rollup_level,
        team.close_date,
        team.credit_month,
        team.deal_currency,
        team.credit_amount_deal_currency,
        team.pay_currency,
        team.fx_rate,
        team.fx_rate_date,
        team.credit_amount
    from {{ ref('int_team_credits') }} as team
    inner join {{ ref('int_opportunity_credits') }} as credits
        on team.credit_line_id = credits.credit_line_id
)

select * from personal_credits
union all
select * from team_credits
