{#
  Keep the latest version of each record from an append-only raw table.
  Raw tables hold every delivered version (history is never overwritten); staging exposes the current state.
  Ties on the ordering column are broken by file path and row, the order the loader reads files in: two files
  loaded together that restate one key (an FX rate sent twice in one load) leave the later file's value.
#}
{% macro latest_version(relation, record_key, order_by) %}
    select *
    from (
        select
            src.*,
            row_number() over (
                partition by {{ record_key | join(', ') }}
                order by {{ order_by }} desc, _source_file desc, _source_row desc
            ) as version_rank
        from {{ relation }} as src
    ) as ranked
    where version_rank = 1
{% endmacro %}
