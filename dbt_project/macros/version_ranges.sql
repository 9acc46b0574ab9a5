{#
  Effective-date ranges from a version history (staging `*_versions` models with `last_modified_at` and
  `load_id`): the first version of each record is in force from `first_valid_from` (e.g. its start or creation
  date), each later version from the day it was modified, until the day before the next version
  (`next_valid_from`, null for the current version). A record changed twice on one day yields an empty range for
  the earlier version ([d, d)); callers drop it or let their `< next_valid_from` join skip it.
#}
{% macro version_ranges(versions_relation, record_key, first_valid_from) %}
    select
        ordered.*,
        case when version_number = 1 then {{ first_valid_from }} else cast(last_modified_at as date) end
            as valid_from,
        lead(cast(last_modified_at as date)) over (partition by {{ record_key }} order by version_number)
            as next_valid_from
    from (
        select
            versions.*,
            row_number() over (partition by {{ record_key }} order by last_modified_at, load_id) as version_number
        from {{ versions_relation }} as versions
    ) as ordered
{% endmacro %}
