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
