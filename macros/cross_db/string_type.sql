{#-
    The SQL type for text. DuckDB's varchar takes no length; Spark has no `varchar` without
    one (and a varchar(n) is checked and padded semantics): its text type is `string`.
-#}
{% macro string_type() %}
    {{ return(adapter.dispatch("string_type", "customer_segments")()) }}
{% endmacro %}

{% macro default__string_type() %}
    {{- return(api.Column.translate_type("string")) -}}
{% endmacro %}

{% macro duckdb__string_type() %}
    {{- return("varchar") -}}
{% endmacro %}

{% macro spark__string_type() %}
    {{- return("string") -}}
{% endmacro %}
