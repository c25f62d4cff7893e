{#
    An SQL expression that aborts the query with `message_sql` (an SQL string expression).
    Used inside a CASE so that a bad raw value stops the build with a message naming the file,
    the column and an example value instead of turning silently into NULL.
#}
{% macro raise_error(message_sql) %}
    {{ return(adapter.dispatch("raise_error", "customer_segments")(message_sql)) }}
{% endmacro %}

{% macro default__raise_error(message_sql) %}
    {{ exceptions.raise_compiler_error(
        "raise_error needs an implementation for the " ~ target.type ~ " adapter") }}
{% endmacro %}

{% macro duckdb__raise_error(message_sql) %}
    error({{ message_sql }})
{% endmacro %}

{% macro spark__raise_error(message_sql) %}
    raise_error({{ message_sql }})
{% endmacro %}
