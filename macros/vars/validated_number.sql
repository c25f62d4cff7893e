{#
    The dbt var `name` as a number above `exclusive_minimum` and at most `maximum` (none = no
    bound), or a compilation error naming the var, the rule and the value it got. Returned as
    the text of a plain decimal number, so nothing but a number reaches the SQL.
#}
{% macro validated_number(name, exclusive_minimum=none, maximum=none, meaning="") %}
    {%- set raw_value = var(name, none) -%}
    {%- set text = raw_value | string | trim -%}
    {%- set bounds = [] -%}
    {%- if exclusive_minimum is not none -%}{%- do bounds.append("above " ~ exclusive_minimum) -%}{%- endif -%}
    {%- if maximum is not none -%}{%- do bounds.append("at most " ~ maximum) -%}{%- endif -%}
    {%- set rule = "a number" ~ ((" " ~ (bounds | join(" and "))) if bounds else "")
        ~ (" (" ~ meaning ~ ")" if meaning else "") -%}
    {%- if raw_value is none or raw_value is sameas true or raw_value is sameas false
            or not modules.re.fullmatch("-?[0-9]{1,12}([.][0-9]{1,12})?", text)
            or (exclusive_minimum is not none and (text | float) <= exclusive_minimum)
            or (maximum is not none and (text | float) > maximum) -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var " ~ name ~ " must be " ~ rule ~ "; got: "
            ~ (text | truncate(80, true, "..."))) -%}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}
