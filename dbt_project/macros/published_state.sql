{#- A table the publication step writes (published.*, audit.*), or an empty relation of the given columns when
    nothing was published yet. The models that read it (closed months, prior-period adjustments) must build on
    a fresh warehouse, before the first publication has created these tables.
    `columns` maps column name -> SQL type. -#}
{% macro published_state_relation(source_relation, columns) -%}
    {%- set existing = adapter.get_relation(
        database=source_relation.database, schema=source_relation.schema, identifier=source_relation.identifier
    ) if execute else none -%}
    {%- if existing is not none -%}
        (select {{ columns.keys() | join(', ') }} from {{ source_relation }})
    {%- else -%}
        (select
            {%- for name, type in columns.items() %}
            cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
            {%- endfor %}
        where 1 = 0)
    {%- endif -%}
{%- endmacro %}
