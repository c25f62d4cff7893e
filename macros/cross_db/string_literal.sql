{#-
    `text` as an SQL string literal. Standard SQL doubles a quote; Spark SQL reads a backslash
    as an escape (a Windows path `C:\data` would become `C:data`) and only Spark 4 reads a
    doubled quote as a quote, so Spark escapes both with a backslash.
-#}
{% macro string_literal(text) %}
    {{ return(adapter.dispatch("string_literal", "customer_segments")(text)) }}
{% endmacro %}

{% macro default__string_literal(text) %}
    {{- return("'" ~ (text | string | replace("'", "''")) ~ "'") -}}
{% endmacro %}

{% macro spark__string_literal(text) %}
    {{- return("'" ~ (text | string | replace("\\", "\\\\") | replace("'", "\\'")) ~ "'") -}}
{% endmacro %}
