{#- Fingerprints say whether the inputs of a computation changed between two runs, without keeping the inputs.
    row_fingerprint: a hash of one input row (nulls spelled out, so null <> '').
    set_fingerprint: an order-independent hash of a group of row fingerprints (use inside group by). -#}
{% macro row_fingerprint(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(" ~ to_text(column) ~ ", '~')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{% macro set_fingerprint(row_fingerprint_column) -%}
    {{ return(adapter.dispatch('set_fingerprint')(row_fingerprint_column)) }}
{%- endmacro %}

{% macro default__set_fingerprint(row_fingerprint_column) -%}
    {{ dbt.hash(dbt.listagg(row_fingerprint_column, "','", "order by " ~ row_fingerprint_column)) }}
{%- endmacro %}

{#- Spark's listagg (collect_list) has no order: sort the collected fingerprints first. Same text as above. -#}
{% macro spark__set_fingerprint(row_fingerprint_column) -%}
    {{ dbt.hash("array_join(array_sort(collect_list(" ~ row_fingerprint_column ~ ")), ',')") }}
{%- endmacro %}
