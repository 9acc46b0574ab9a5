{#
  The platform's one FX rule: convert between two currencies through the reporting currency,
  rate(A -> B) = rate(A -> USD) / rate(B -> USD), rounded to 8 decimals so the rate stored on a line is exactly
  the rate used. Same currency converts at exactly 1 (no rate needed). A missing rate yields null, which the
  publication gate `fx_rate_exists` reports.
#}
{% macro fx_rate(from_currency, to_currency, from_rate_to_reporting, to_rate_to_reporting) -%}
    case
        when {{ from_currency }} = {{ to_currency }} then cast(1 as decimal(18, 8))
        else cast(round({{ from_rate_to_reporting }} / {{ to_rate_to_reporting }}, 8) as decimal(18, 8))
    end
{%- endmacro %}
