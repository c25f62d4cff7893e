{#
    True when the whole of the text `text_sql` matches the regular expression `pattern` (RE2 /
    Java syntax; write [.] rather than a backslash escape, which engines quote differently).
    dbt has no cross-database macro for this, so it is dispatched here. The default is
    regexp_like (Spark 3.2+, Snowflake, Trino, Postgres 15+).
#}
{% macro text_matches(text_sql, pattern) %}
    {{ return(adapter.dispatch("text_matches", "customer_segments")(text_sql, pattern)) }}
{% endmacro %}

{% macro default__text_matches(text_sql, pattern) %}
    regexp_like({{ text_sql }}, '^(?:{{ pattern | replace("'", "''") }})$')
{% endmacro %}

{% macro duckdb__text_matches(text_sql, pattern) %}
    regexp_full_match({{ text_sql }}, '{{ pattern | replace("'", "''") }}')
{% endmacro %}
