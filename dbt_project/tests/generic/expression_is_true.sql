{#
  Fails for every row where `expression` is not true (money identities, ranges). Written here because dbt
  packages (dbt_utils) cannot be installed offline; the behaviour matches dbt_utils.expression_is_true.
#}
{% test expression_is_true(model, expression, column_name=none, where_clause=none) %}
select *
from {{ model }}
where not ({{ expression }})
{% if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}
