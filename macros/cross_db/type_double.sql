{#-
    The 64-bit floating-point type: `double` on DuckDB and Spark. dbt's type_float() gives
    `float`, which DuckDB reads as 32 bits.
-#}
{% macro type_double() %}
    {{ return(adapter.dispatch("type_double", "customer_segments")()) }}
{% endmacro %}

{% macro default__type_double() %}
    {{- return("double precision") -}}
{% endmacro %}

{% macro duckdb__type_double() %}
    {{- return("double") -}}
{% endmacro %}

{% macro spark__type_double() %}
    {{- return("double") -}}
{% endmacro %}
