{#-
    The median of a numeric column as an aggregate. dbt has no cross-database macro for it; the
    default is standard SQL (DuckDB, Postgres, Snowflake), adapters without it override here.
-#}
{% macro median(column_sql) %}
    {{ return(adapter.dispatch("median", "customer_segments")(column_sql)) }}
{% endmacro %}

{% macro default__median(column_sql) %}
    percentile_cont(0.5) within group (order by {{ column_sql }})
{% endmacro %}

{#- percentile_cont ... within group exists from Spark 3.3; percentile() is older and equal. -#}
{% macro spark__median(column_sql) %}
    percentile({{ column_sql }}, 0.5)
{% endmacro %}
