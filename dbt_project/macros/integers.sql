{#
  Integers 0 .. 10^digits - 1 as a subquery with column `n`, built from unions and cross joins so it runs
  on every adapter (no generate_series, which Spark and Trino spell differently).
#}
{% macro integers(digits=5) -%}
    (
        select
            {% for i in range(digits) -%}
            d{{ i }}.n * {{ 10 ** i }}{{ ' + ' if not loop.last }}
            {%- endfor %} as n
        from
            {% for i in range(digits) -%}
            (
                {% for v in range(10) %}select {{ v }} as n{{ ' union all ' if not loop.last }}{% endfor %}
            ) as d{{ i }}{{ ' cross join ' if not loop.last }}
            {% endfor %}
    )
{%- endmacro %}
