{#-
    The var raw_orders_exclude_exact_duplicates: true (the default) excludes a line that repeats
    an earlier line of the same customer in all eight columns as `duplicate`, as the usual
    cleaning of the Online Retail data does (5,268 copies in the real file); false keeps them,
    for an export that writes one line per scanned item, where copies are real sales.
-#}
{% macro raw_orders_exclude_exact_duplicates_setting() %}
    {%- set raw_value = var("raw_orders_exclude_exact_duplicates", true) -%}
    {%- set text = raw_value | string | trim | lower -%}
    {%- if raw_value is sameas true or text == "true" -%}
        {{ return(true) }}
    {%- elif raw_value is sameas false or text == "false" -%}
        {{ return(false) }}
    {%- endif -%}
    {%- do exceptions.raise_compiler_error(
        "The dbt var raw_orders_exclude_exact_duplicates must be true (exclude lines that repeat"
        ~ " an earlier line of the customer in every column, the default) or false (keep them:"
        ~ " an export with one line per scanned item); got: "
        ~ (raw_value | string | truncate(80, true, "..."))) -%}
{% endmacro %}
