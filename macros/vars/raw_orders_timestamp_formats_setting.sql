{#-
    The var raw_orders_timestamp_formats: a list of strftime layouts, tried in order. Each holds
    at least one directive, only known directives and no quote or backslash, so it can be
    rendered into SQL as a literal. A two-digit-year layout (%y) must come before the %Y
    layouts: %Y also reads 12/1/10 (as the year 10), %y never reads a four-digit year.
-#}
{% macro raw_orders_timestamp_formats_setting() %}
    {%- set raw_value = var("raw_orders_timestamp_formats") -%}
    {%- set example = "for example ['%m/%d/%Y %H:%M', '%Y-%m-%d %H:%M:%S']" -%}
    {%- if raw_value is string or raw_value is mapping or raw_value is not iterable
            or raw_value | length == 0 -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var raw_orders_timestamp_formats must be a list of date layouts, " ~ example
            ~ "; got: " ~ (raw_value | string | truncate(80, true, "..."))) -%}
    {%- endif -%}
    {%- set formats = [] -%}
    {%- set seen_four_digit_year = [] -%}
    {%- for layout in raw_value -%}
        {%- set text = layout | string -%}
        {%- set directives = modules.re.findall("%-?(.?)", text) -%}
        {%- if layout is not string or text | trim == "" or directives | length == 0
                or "" in directives
                or modules.re.search("['\"\\\\\r\n\t]", text)
                or directives | reject("in", "aAbBdefgGHIjmMpSuUVwWyYzZ%") | list | length > 0 -%}
            {%- do exceptions.raise_compiler_error(
                "The dbt var raw_orders_timestamp_formats: each layout must be text made of strftime "
                ~ "directives (%Y %y %m %d %H %M %S %p %b ...) and separators, without quotes or "
                ~ "backslashes, " ~ example ~ "; got: " ~ (text | truncate(80, true, "..."))) -%}
        {%- endif -%}
        {%- if "y" in directives and seen_four_digit_year -%}
            {%- do exceptions.raise_compiler_error(
                "The dbt var raw_orders_timestamp_formats: the two-digit-year layout '" ~ text
                ~ "' comes after a %Y layout, which would read 12/1/10 as the year 10. List the %y "
                ~ "layouts first.") -%}
        {%- endif -%}
        {%- if "Y" in directives -%}
            {%- do seen_four_digit_year.append(true) -%}
        {%- endif -%}
        {%- do formats.append(text) -%}
    {%- endfor -%}
    {{ return(formats) }}
{% endmacro %}
