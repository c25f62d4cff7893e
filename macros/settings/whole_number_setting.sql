{#
    The dbt var `name` as a whole number between `minimum` and `maximum` (none: no bound), or a
    compilation error naming the var, the rule and the value it got. Never pasted into SQL
    unchecked: a value such as "99 or true" is refused.
#}
{% macro whole_number_setting(name, minimum=none, maximum=none) %}
    {%- set raw_value = var(name) -%}
    {%- set text = raw_value | string | trim -%}
    {%- set bounds = [] -%}
    {%- if minimum is not none -%}{%- do bounds.append("at least " ~ minimum) -%}{%- endif -%}
    {%- if maximum is not none -%}{%- do bounds.append("at most " ~ maximum) -%}{%- endif -%}
    {%- set rule = "a whole number" ~ ((" " ~ (bounds | join(" and "))) if bounds else "") -%}
    {%- if raw_value is boolean or not modules.re.fullmatch("-?[0-9]{1,18}", text) -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var " ~ name ~ " must be " ~ rule ~ "; got: "
            ~ (text | truncate(80, true, "..."))) -%}
    {%- endif -%}
    {%- set value = text | int -%}
    {%- if (minimum is not none and value < minimum) or (maximum is not none and value > maximum) -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var " ~ name ~ " must be " ~ rule ~ "; got: " ~ value) -%}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}
