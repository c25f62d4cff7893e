{#-
    The var raw_orders_encoding: auto, utf-8, latin-1 or utf-16 (the encodings DuckDB reads
    without an extension). Common spellings (utf8, latin1, iso-8859-1, utf16) are accepted.
-#}
{% macro raw_orders_encoding_setting() %}
    {%- set text = var("raw_orders_encoding") | string | trim | lower -%}
    {%- set aliases = {
        "auto": "auto",
        "utf-8": "utf-8", "utf8": "utf-8",
        "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1", "iso8859-1": "latin-1",
        "utf-16": "utf-16", "utf16": "utf-16", "utf-16le": "utf-16", "utf16le": "utf-16",
    } -%}
    {%- if text not in aliases -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var raw_orders_encoding must be auto, utf-8, latin-1 or utf-16; got: "
            ~ (text | truncate(40, true, "..."))) -%}
    {%- endif -%}
    {{ return(aliases[text]) }}
{% endmacro %}
