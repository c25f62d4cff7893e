{#-
    The var raw_orders_date_bulk_tail_share: the bulk of the data's dates runs from the first
    date by which this share of the lines has been seen to the first date by which all but this
    share has (0.01: from the 1st to the 99th percentile of the lines' dates). A number from 0
    to 0.25, returned as text that is a valid SQL number.
-#}
{% macro raw_orders_date_bulk_tail_share_setting() %}
    {%- set text = var("raw_orders_date_bulk_tail_share") | string | trim -%}
    {%- if not modules.re.fullmatch("(0|0?[.][0-9]{1,6})", text) or (text | float) > 0.25 -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var raw_orders_date_bulk_tail_share must be a number from 0 to 0.25 (the "
            ~ "share of lines at each end left out of the bulk of the dates, for example 0.01); "
            ~ "got: " ~ (text | truncate(80, true, "..."))) -%}
    {%- endif -%}
    {{ return(("0" ~ text) if text.startswith(".") else text) }}
{% endmacro %}
