{{ config(post_hook="{{ team_membership_security() }}") }}
-- Who is on whose team in each month: every (manager, member) pair where the member reported to the manager,
-- directly or through other managers, at any time during the month, per the effective-dated HR hierarchy.
-- It decides what a manager may see of their team's pay on the PostgreSQL target (macros/pay_data_security.sql):
-- a payout, ledger line or attainment row of a month is visible to everyone the payee reported to in that month.
-- "Any time during the month" (not month end) because a rep moved mid-month was paid that month under both
-- managers (team credit follows the hierarchy on each close date), so both must be able to answer for it.
-- A member keeps the last manager after termination (the HR row stays open), so clawbacks and prior-period
-- adjustments that land after a rep left stay visible to the manager they left.
-- Walked level by level up to var('max_hierarchy_depth') (no recursive CTE, like int_team_credits); each pair
-- keeps its shortest reporting distance. A hierarchy cycle cannot loop (the walk is bounded) and a manager is
-- never their own member.
-- Grain: one row per team_member_month_id (manager_employee_id x member_employee_id x team_month).
{%- set depth = var('max_hierarchy_depth') | int %}
with months as (
    select month_start, month_end
    from {{ ref('int_calendar_months') }}
),

history as (
    select employee_id, manager_employee_id, valid_from, valid_to
    from {{ ref('int_employee_history') }}
    where manager_employee_id is not null and manager_employee_id <> employee_id
),

reporting_lines as (
    -- direct reporting lines that held on at least one day of the month
    select distinct
        months.month_start as team_month,
        history.employee_id,
        history.manager_employee_id
    from history
    inner join months
        on history.valid_from <= months.month_end
        and history.valid_to >= months.month_start
),

{% for level in range(1, depth + 1) %}
level_{{ level }} as (
    {%- if level == 1 %}
    select team_month, manager_employee_id, employee_id as member_employee_id, 1 as reporting_level
    from reporting_lines
    {%- else %}
    select walk.team_month, lines.manager_employee_id, walk.member_employee_id, {{ level }} as reporting_level
    from level_{{ level - 1 }} as walk
    inner join reporting_lines as lines
        on walk.manager_employee_id = lines.employee_id
        and walk.team_month = lines.team_month
    {%- endif %}
),
{% endfor %}

all_levels as (
    {% for level in range(1, depth + 1) %}
    select * from level_{{ level }}{{ ' union all' if not loop.last }}
    {% endfor %}
),

closest as (
    select team_month, manager_employee_id, member_employee_id, min(reporting_level) as reporting_level
    from all_levels
    where manager_employee_id <> member_employee_id
    group by team_month, manager_employee_id, member_employee_id
)

select
    {{ dbt.concat(["manager_employee_id", "':'", "member_employee_id", "':'", to_text('team_month')]) }}
        as team_member_month_id,
    manager_employee_id,
    member_employee_id,
    team_month,
    reporting_level
from closest
