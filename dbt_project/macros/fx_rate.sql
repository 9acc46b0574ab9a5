{#
  The platform's one FX rule: convert between two currencies through the reporting currency,
  rate(A -> B) = rate(A -> USD) / rate(B -> USD), rounded to 8 decimals so the rate stored on a line is exactly
  the rate used. Same currency converts at exactly 1 (no rate needed). A missing rate yields null, which the
  publication gate `fx_rate_exists` reports. A cross rate of 10^10 or more (two rates the FX contract allows, 10
  orders of magnitude apart) does not fit decimal(18, 8): the build stops naming the currency pair and `rate_date`
  (macros/amount_range.sql).
#}
{% macro fx_rate(from_currency, to_currency, from_rate_to_reporting, to_rate_to_reporting, rate_date) -%}
    case
        when {{ from_currency }} = {{ to_currency }} then cast(1 as decimal(18, 8))
        else {{ fit_decimal(
            'round(' ~ from_rate_to_reporting ~ ' / ' ~ to_rate_to_reporting ~ ', 8)',
            'the FX cross rate',
            dbt.concat([from_currency, "'->'", to_currency, "' on '", to_text(rate_date)]),
            18, 8
        ) }}
    end
{%- endmacro %}
