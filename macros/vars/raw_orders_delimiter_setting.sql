{#-
    The var raw_orders_delimiter: 'auto' (the header line decides among , ; tab |) or one
    character that is not a letter, a digit, a quote or a line break.
-#}
{% macro raw_orders_delimiter_setting() %}
    {%- set raw_value = var("raw_orders_delimiter") -%}
    {%- set text = raw_value | string -%}
    {%- if text | trim | lower == "auto" -%}
        {{ return("auto") }}
    {%- endif -%}
    {%- if text | lower in ("tab", "\\t") -%}
        {{ return("\t") }}
    {%- endif -%}
    {%- if raw_value is not string or text | length != 1
            or modules.re.fullmatch("[A-Za-z0-9\"'\r\n\\\\]", text) -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var raw_orders_delimiter must be auto or one character such as , ; | or tab "
            ~ "(not a letter, digit, quote or line break); got: "
            ~ (text | truncate(20, true, "..."))) -%}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}
