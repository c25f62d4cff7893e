{#
    dbt's cross-database `safe_cast` falls back to a plain cast on DuckDB, which aborts on the
    first bad value. DuckDB's try_cast returns NULL instead, so staging can report the bad value
    with its column and row (see checked_raw_value). Picked up through the `dispatch` setting in
    dbt_project.yml.
#}
{% macro duckdb__safe_cast(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}

{#-
    dbt-spark's own is a plain cast. dbt-spark turns ANSI mode off for the session (a plain cast
    then gives NULL too), but a profile or cluster may turn it back on: try_cast is NULL either way.
-#}
{% macro spark__safe_cast(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}
