-- Manager roll-up credit: every revenue credit also credits each manager above the credited rep in the HR
-- hierarchy *effective on the close date*, up to var('max_hierarchy_depth') levels (a Jinja-unrolled walk
-- instead of a recursive CTE, so the model runs on engines without recursion).
-- No double counting: each revenue credit rolls up once per ancestor, so a deal split 60/40 between two reps
-- of the same manager gives that manager 60 % + 40 % = 100 % of the deal, not 200 %. A hierarchy cycle cannot
-- loop forever (the walk is bounded) and yields each ancestor once (first level wins).
-- One row per revenue credit *version* x ancestor, valid for the same knowledge months as the credit version.
{%- set depth = var('max_hierarchy_depth') | int %}
with revenue_credits as (
    select
        credit_version_id, credit_line_id, known_from_month, known_to_month, opportunity_id, split_id,
        employee_id, close_date, deal_currency, credit_amount_deal_currency
    from {{ ref('int_opportunity_credits') }}
    where credit_type = 'revenue' and employee_id is not null
),

history as (
    select employee_id, valid_from, valid_to, manager_employee_id, hire_date, termination_date
    from {{ ref('int_employee_history') }}
),

{% for level in range(1, depth + 1) %}
level_{{ level }} as (
    select
        walk.credit_version_id,
        walk.credit_line_id,
        walk.known_from_month,
        walk.known_to_month,
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
            partition by credit_version_id, ancestor_employee_id order by rollup_level
        ) as path_rank
    from all_levels
    where ancestor_employee_id <> credited_rep_employee_id
),

with_ancestor as (
    select first_path_to_ancestor.*
    from first_path_to_ancestor
    inner join history
        on first_path_to_ancestor.ancestor_employee_id = history.employee_id
        and first_path_to_ancestor.close_date between history.valid_from and history.valid_to
        and first_path_to_ancestor.close_date between history.hire_date
            and coalesce(history.termination_date, {{ end_of_time() }})
    where first_path_to_ancestor.path_rank = 1
)

select
    {{ dbt.concat(["credit_line_id", "':team:'", "ancestor_employee_id"]) }} as team_credit_id,
    {{ dbt.concat(["credit_version_id", "':team:'", "ancestor_employee_id"]) }} as team_credit_version_id,
    credit_version_id,
    credit_line_id,
    known_from_month,
    known_to_month,
    opportunity_id,
    split_id,
    ancestor_employee_id as employee_id,
    credited_rep_employee_id,
    rollup_level,
    close_date,
    {{ month_start('close_date') }} as credit_month,
    deal_currency,
    credit_amount_deal_currency
from with_ancestor
