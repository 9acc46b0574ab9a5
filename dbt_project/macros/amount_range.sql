{#
  The range of amounts the engine computes with (docs/compensation-engine.md, "Amount range").

  Source contracts bound every money column to 13 integer digits (|amount| <= 9,999,999,999,999.99, the loader's
  `max_value` rule); money columns in the models are decimal(18, 2) (16 integer digits), so a credit of the
  largest amount at the largest split percent the contract allows (99,999.9999 %) still fits. What no bound on
  sources alone can keep in range is an FX conversion (a cross rate multiplies): those conversions go through
  `fit_decimal`, which names the row instead of failing namelessly.

  exact_product(left, right): left * right, computed exactly for any operands in range. DuckDB types the product
  of two decimals of width <= 18 as decimal(18, s1 + s2) in 64-bit integers and raises "Overflow in
  multiplication of DECIMAL(18)" once the unscaled product passes 10^18 (a 10,000,000,000.00 amount times a
  decimal(9, 4) percent, or 100,000,000.00 times a decimal(18, 8) FX rate); multiplying by a decimal(38, 0) one
  first makes it decimal(38, s1 + s2), computed in 128 bits, with the same exact value and scale, so rounding is
  unchanged. PostgreSQL (numeric) and Spark (decimal(p1 + p2 + 1, s1 + s2)) already widen the product, and
  Spark must not be given a 38-digit operand: with spark.sql.decimalOperations.allowPrecisionLoss it would cut
  the product's scale to 6 digits. A double operand makes a double product on every engine, as before.
#}
{% macro exact_product(left, right) -%}
    {{ return(adapter.dispatch('exact_product')(left, right)) }}
{%- endmacro %}

{% macro default__exact_product(left, right) -%}
    ({{ left }}) * ({{ right }})
{%- endmacro %}

{% macro duckdb__exact_product(left, right) -%}
    (cast(1 as decimal(38, 0)) * ({{ left }}) * ({{ right }}))
{%- endmacro %}


{#
  fit_decimal(expr, what, key, precision, scale): `expr` (already rounded to `scale`) as decimal(precision,
  scale); a value that does not fit stops the build with an error that says what did not fit and names the row
  (`key`: a SQL expression of text, such as a credit id and its currencies), instead of DuckDB's and PostgreSQL's
  nameless overflow or Spark's silent null. Keys only, never amounts: the message reaches logs and alerts
  (docs/pay-data-protection.md).
#}
{% macro fit_decimal(expr, what, key, precision=18, scale=2) -%}
    {%- set largest = '9' * (precision - scale) ~ '.' ~ '9' * scale ~ '5' -%}
    {%- set message = dbt.concat([
        string_literal(what ~ ' does not fit decimal(' ~ precision ~ ', ' ~ scale ~ ') for '),
        key,
        string_literal(': an amount or FX rate beyond the range the engine computes with'
            ~ ' (docs/compensation-engine.md, Amount range)'),
    ]) -%}
    cast(
        case
            when abs({{ expr }}) < {{ largest }} or {{ expr }} is null then {{ expr }}
            else {{ raise_error(message) }}
        end
        as decimal({{ precision }}, {{ scale }})
    )
{%- endmacro %}


{#- raise_error(message): stop the query with `message` (SQL text) when evaluated; null-typed otherwise. -#}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error')(message)) }}
{%- endmacro %}

{% macro default__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}

{#- PostgreSQL has no function that raises; casting the message to a number fails with the message quoted:
    invalid input syntax for type numeric: "<message>". -#}
{% macro postgres__raise_error(message) -%}
    cast({{ message }} as numeric)
{%- endmacro %}
