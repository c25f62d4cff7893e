{#
    Parse text into a timestamp trying each strftime layout in `formats` in order; NULL when
    none matches. dbt has no cross-database macro for this, so it is dispatched here.
#}
{% macro parse_timestamp(text_sql, formats) %}
    {{ return(adapter.dispatch("parse_timestamp", "customer_segments")(text_sql, formats)) }}
{% endmacro %}

{% macro default__parse_timestamp(text_sql, formats) %}
    coalesce(
        {%- for format in formats %}
        try_to_timestamp({{ text_sql }}, '{{ format }}'){{ "," if not loop.last }}
        {%- endfor %}
    )
{% endmacro %}

{% macro duckdb__parse_timestamp(text_sql, formats) %}
    try_strptime({{ text_sql }}, [
        {%- for format in formats -%}
        '{{ format }}'{{ ", " if not loop.last }}
        {%- endfor -%}
    ])
{% endmacro %}

{#-
    Spark parses with Java DateTimeFormatter patterns, so each strftime layout is converted:
    %m -> M and %d -> d accept one or two digits, as DuckDB's %m and %d do. Literal letters
    (the T of ISO dates) are quoted.
-#}
{% macro spark__parse_timestamp(text_sql, formats) %}
    coalesce(
        {%- for format in formats %}
        try_to_timestamp({{ text_sql }}, {{ string_literal(strftime_to_java_pattern(format)) }})
            {{- "," if not loop.last }}
        {%- endfor %}
    )
{% endmacro %}
