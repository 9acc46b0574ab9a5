{#
  Knowledge time: a record's state at the end of month K is its last version with last_modified in or before
  K. This keeps the last version of each record in each month it changed (`known_month`) and the month of its
  next change (`next_known_month`, null for the current state), so "the state at K" is the row with
  known_month <= K < next_known_month. Ties within a month are broken by load id and source row, as in
  latest_version. `versions_relation` is a staging *_versions model.
#}
{% macro knowledge_month_states(versions_relation, record_key) %}
    select
        ranked.*,
        lead(ranked.known_month) over (partition by {{ record_key }} order by ranked.known_month) as next_known_month
    from (
        select
            versions.*,
            {{ month_start('versions.last_modified_at') }} as known_month,
            row_number() over (
                partition by {{ record_key }}, {{ month_start('versions.last_modified_at') }}
                order by versions.last_modified_at desc, versions.load_id desc, versions.source_row desc
            ) as rank_in_month
        from {{ versions_relation }} as versions
    ) as ranked
    where ranked.rank_in_month = 1
{% endmacro %}
