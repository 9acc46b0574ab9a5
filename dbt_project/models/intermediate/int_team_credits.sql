-- Manager roll-up credit: every revenue credit also credits each manager above the credited rep in the HR
-- hierarchy *effective on the close date*, up to var('max_hierarchy_depth') levels (a Jinja-unrolled walk
-- instead of a recursive CTE, so the model runs on engines without recursion).
-- No double counting: each revenue credit rolls up once per ancestor, so a deal split 60/40 between two reps
-- of the same manager gives that manager 60 % + 40 % = 100 % of the deal, not 200 %. A hierarchy cycle cannot
-- loop forever (the walk is bounded) and yields each ancestor once (first level wins).
-- Team credit is converted from the deal currency to the manager's pay currency at the close-date rate.
{%- set depth = var('max_hierarchy_depth') | int %}
with revenue_credits as (
    select
        credit_line_id, opportunity_id, split_id, employee_id, close_date, deal_currency,
        credit_amount_deal_currency
    from {{ ref('int_opportunity_credits') }}
    where credit_type = 'revenue' and employee_id is not null
),

history as (
    select employee_id, valid_from, valid_to, manager_employee_id, pay_currency, hire_date, termination_date
    from {{ ref('int_employee_history') }}
),

{% for level in range(1, depth + 1) %}
level_{{ level }} as (
    select
        walk.credit_line_id,
        walk.opportunity_id,
        walk.split_id,
        walk.close_date,
        walk.deal_currency,
        walk.credit_amount_deal_currency,
        walk.credited_rep_employee_id,
        history.manager_employee_id as ancestor_employee_id,
        {{ level }} as rollup_level
    from {% if level == 1 -%}
        (
            select revenue_credits.*, revenue_credits.employee_id as credited_rep_employee_id,
                revenue_credits.employee_id as ancestor_employee_id
            from revenue_credits
        )
    {%- else -%}
        level_{{ level - 1 }}
    {%- endif %} as walk
    inner join history
        on walk.ancestor_employee_id = history.employee_id
        and walk.close_date between history.valid_from and history.valid_to
    where history.manager_employee_id is not null
),
{% endfor %}

all_levels as (
    {% for level in range(1, depth + 1) %}
    select * from level_{{ level }}{{ ' union all' if not loop.last }}
    {% endfor %}
),

first_path_to_ancestor as (
    select
        all_levels.*,
        row_number() over (
            partition by credit_line_id, ancestor_employee_id order by rollup_level
        ) as path_rank
    from all_levels
    where ancestor_employee_id <> credited_rep_employee_id
),

with_ancestor as (
    select
        first_path_to_ancestor.*,
        history.pay_currency
    from first_path_to_ancestor
    inner join history
        on first_path_to_ancestor.ancestor_employee_id = history.employee_id
        and first_path_to_ancestor.close_date between history.valid_from and history.valid_to
        and first_path_to_ancestor.close_date between history.hire_date
            and coalesce(history.termination_date, {{ end_of_time() }})
    where first_path_to_ancestor.path_rank = 1
),

with_fx as (
    select
        with_ancestor.*,
        {{ fx_rate(
            'with_ancestor.deal_currency', 'with_ancestor.pay_currency',
            'deal_fx.rate_to_reporting', 'pay_fx.rate_to_reporting'
        ) }} as fx_rate
    from with_ancestor
    left join {{ ref('int_fx_rates') }} as deal_fx
        on with_ancestor.deal_currency = deal_fx.currency_code
        and with_ancestor.close_date = deal_fx.rate_date
    left join {{ ref('int_fx_rates') }} as pay_fx
        on with_ancestor.pay_currency = pay_fx.currency_code
        and with_ancestor.close_date = pay_fx.rate_date
)

select
    {{ dbt.concat(["credit_line_id", "':team:'", "ancestor_employee_id"]) }} as team_credit_id,
    credit_line_id,
    opportunity_id,
    split_id,
    ancestor_employee_id as employee_id,
    credited_rep_employee_id,
    rollup_level,
    close_date,
    {{ month_start('close_date') }} as credit_month,
    deal_currency,
    credit_amount_deal_currency,
    pay_currency,
    fx_rate,
    close_date as fx_rate_date,
    cast(round(credit_amount_deal_currency * fx_rate, 2) as decimal(18, 2)) as credit_amount
from with_fx
