{#
    The dbt var `name` as a whole number from `minimum` to `maximum` (none = no upper bound),
    or none when it is unset and `allow_none`. Anything else stops the build before a model
    runs, naming the var and the value; the value returned is a number, so it can be rendered
    into SQL without quoting anything the user typed.
#}
{% macro validated_whole_number(name, minimum, maximum=none, allow_none=false, meaning="") %}
    {%- set raw_value = var(name, none) -%}
    {%- set text = raw_value | string | trim -%}
    {%- if raw_value is none or text in ("", "none", "None", "null") -%}
        {%- if allow_none -%}
            {{ return(none) }}
        {%- endif -%}
        {%- set text = "(unset)" -%}
    {%- endif -%}
    {%- set bounds = "from " ~ minimum ~ (" to " ~ maximum if maximum is not none else " up") -%}
    {%- if raw_value is sameas true or raw_value is sameas false
            or not modules.re.fullmatch("-?[0-9]{1,19}", text)
            or (text | int) < minimum
            or (maximum is not none and (text | int) > maximum) -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var " ~ name ~ " must be a whole number " ~ bounds
            ~ (" (" ~ meaning ~ ")" if meaning else "")
            ~ (", or unset to switch the rule off" if allow_none else "")
            ~ "; got: " ~ (text | truncate(80, true, "..."))) -%}
    {%- endif -%}
    {{ return(text | int) }}
{% endmacro %}
