{#
  The one rule for who is on which plan: every assignment in force on `date_column` that names the employee or
  matches their job role, ranked so that rank 1 is the assignment that applies (an assignment naming the
  employee wins over one matching their role; ties by assignment id). `people` is a CTE with employee_id,
  job_role and the date; `partition_columns` identify one person-date. Used per day (plan segments) and per
  payee-month (the payout row's plan), so both always agree.
#}
{% macro ranked_plan_assignments(people, date_column, partition_columns) %}
    select
        {% for column in partition_columns %}{{ people }}.{{ column }}, {% endfor %}
        assignments.assignment_id,
        assignments.plan_id,
        row_number() over (
            partition by {% for column in partition_columns %}{{ people }}.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
            order by case when assignments.match_employee_id is not null then 0 else 1 end, assignments.assignment_id
        ) as assignment_rank
    from {{ people }}
    inner join {{ ref('stg_plans__assignments') }} as assignments
        on (
            assignments.match_employee_id = {{ people }}.employee_id
            or assignments.match_job_role = {{ people }}.job_role
        )
        and {{ people }}.{{ date_column }} between assignments.effective_from
            and coalesce(assignments.effective_to, {{ end_of_time() }})
{% endmacro %}
