{#
    The dbt var `name` as a number greater than `exclusive_minimum` (none: no bound), or a
    compilation error naming the var, the rule and the value it got. Rendered back as a plain
    decimal literal, so nothing but a number reaches the SQL.
#}
{% macro number_setting(name, exclusive_minimum=none) %}
    {%- set raw_value = var(name) -%}
    {%- set text = raw_value | string | trim -%}
    {%- set rule = "a number" ~ ((" above " ~ exclusive_minimum) if exclusive_minimum is not none else "") -%}
    {%- if raw_value is boolean or not modules.re.fullmatch("-?[0-9]{1,12}(\.[0-9]{1,12})?", text) -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var " ~ name ~ " must be " ~ rule ~ " (for example 0.25); got: "
            ~ (text | truncate(80, true, "..."))) -%}
    {%- endif -%}
    {%- set value = text | float -%}
    {%- if exclusive_minimum is not none and value <= exclusive_minimum -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var " ~ name ~ " must be " ~ rule ~ "; got: " ~ text) -%}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}
