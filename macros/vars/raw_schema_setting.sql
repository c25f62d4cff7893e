{#- The var raw_schema: the schema of the registered raw source, a plain SQL identifier. -#}
{% macro raw_schema_setting() %}
    {%- set text = var("raw_schema") | string | trim -%}
    {%- if not modules.re.fullmatch("[A-Za-z_][A-Za-z0-9_]{0,62}", text) -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var raw_schema must be a plain schema name (letters, digits, _), for "
            ~ "example raw; got: " ~ (text | truncate(80, true, "..."))) -%}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}
