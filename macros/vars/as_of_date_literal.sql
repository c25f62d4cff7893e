{#
    The `as_of_date` var, checked and rendered as an SQL date literal; none when the var is unset
    (the models then use the day after the last kept line). A value that is not a calendar date
    in YYYY-MM-DD form stops the build; it is never pasted into SQL as text.
#}
{% macro as_of_date_literal() %}
    {%- set raw_value = var("as_of_date", none) -%}
    {%- if raw_value is none or (raw_value | string | trim) in ("", "none", "None", "null") -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = raw_value | string | trim -%}
    {%- set parsed = none -%}
    {%- if modules.re.fullmatch("[0-9]{4}-[0-9]{2}-[0-9]{2}", text) -%}
        {%- set parts = text.split("-") -%}
        {%- set year = parts[0] | int -%}
        {%- set month = parts[1] | int -%}
        {%- set day = parts[2] | int -%}
        {#- Years 1000 to 9998: the day after and a horizon later stay calendar dates. -#}
        {%- if 1000 <= year <= 9998 and 1 <= month <= 12 and 1 <= day <= 31 -%}
            {%- set last_day = (modules.datetime.date(year + (month // 12), (month % 12) + 1, 1)
                - modules.datetime.timedelta(days=1)).day -%}
            {%- if day <= last_day -%}
                {%- set parsed = modules.datetime.date(year, month, day) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if parsed is none -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var as_of_date must be a calendar date written YYYY-MM-DD (for example "
            ~ "2011-12-10, years 1000 to 9998), or unset for the day after the last kept order "
            ~ "line; got: "
            ~ (text | truncate(80, true, "...")) ~ "") -%}
    {%- endif -%}
    {{ return("cast('" ~ parsed.isoformat() ~ "' as date)") }}
{% endmacro %}
