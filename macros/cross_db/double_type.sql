{#-
    The SQL type for an 8-byte float. `double precision` is standard SQL and DuckDB's alias,
    but no Spark type; dbt's type_float() is a 4-byte float on DuckDB.
-#}
{% macro double_type() %}
    {{ return(adapter.dispatch("double_type", "customer_segments")()) }}
{% endmacro %}

{% macro default__double_type() %}
    {{- return("double precision") -}}
{% endmacro %}

{% macro duckdb__double_type() %}
    {{- return("double") -}}
{% endmacro %}

{% macro spark__double_type() %}
    {{- return("double") -}}
{% endmacro %}
