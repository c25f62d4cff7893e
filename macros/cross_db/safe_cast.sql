{#
    dbt's cross-database `safe_cast` falls back to a plain cast on DuckDB, which aborts on the
    first bad value. DuckDB's try_cast returns NULL instead, so staging can report the bad value
    with its column and row (see parse_raw_value). Picked up through the `dispatch` setting in
    dbt_project.yml.
#}
{% macro duckdb__safe_cast(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}
