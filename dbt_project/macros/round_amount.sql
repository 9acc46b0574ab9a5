{#- round(expr, digits) for an expression that may be a double (an amount times a fraction). PostgreSQL has
    round(numeric, int) only, so it rounds the value's numeric form there; DuckDB and Spark round the double. -#}
{% macro round_amount(expr, digits=2) -%}
    {{ return(adapter.dispatch('round_amount')(expr, digits)) }}
{%- endmacro %}

{% macro default__round_amount(expr, digits) -%}
    round({{ expr }}, {{ digits }})
{%- endmacro %}

{% macro postgres__round_amount(expr, digits) -%}
    round(cast({{ expr }} as numeric), {{ digits }})
{%- endmacro %}

{#-
  numerator / denominator rounded half away from zero to `digits` places, exactly, as decimal(18, digits):
  attainment and retention ratios, and money divided by 12 or by days. PostgreSQL and Spark divide decimals exactly; DuckDB divides them in double precision,
  which puts an exact half (15185.19 / 20000 = 0.7592595) a hair below it, and DuckDB 2.0.1 then rounds it
  down. On DuckDB the quotient is therefore computed in integers: both sides are scaled to whole millionths
  (exact for amounts of up to 6 decimals, in 128 bits: exact_product, so a 10,000,000,000.00 credit does not
  overflow the 18-digit product) and divided with half-up rounding. Null when the denominator is 0.
-#}
{% macro exact_division(numerator, denominator, digits=6) -%}
    {{ return(adapter.dispatch('exact_division')(numerator, denominator, digits)) }}
{%- endmacro %}

{% macro default__exact_division(numerator, denominator, digits) -%}
    cast(round(({{ numerator }}) / nullif({{ denominator }}, 0), {{ digits }}) as decimal(18, {{ digits }}))
{%- endmacro %}

{% macro duckdb__exact_division(numerator, denominator, digits) -%}
    {%- set n = "cast(" ~ exact_product(numerator, '1000000') ~ " as hugeint)" -%}
    {%- set d = "cast(" ~ exact_product('nullif(' ~ denominator ~ ', 0)', '1000000') ~ " as hugeint)" -%}
    cast(
        sign({{ n }}) * sign({{ d }})
        * cast((abs({{ n }}) * {{ 10 ** digits }} * 2 + abs({{ d }})) // (2 * abs({{ d }})) as decimal(38, 0))
        * cast({{ '0.' ~ '0' * (digits - 1) ~ '1' }} as decimal(18, {{ digits }}))
        as decimal(18, {{ digits }})
    )
{%- endmacro %}
