{#-
    The var raw_orders_max_days_outside_date_bulk: a line dated more than this many days before
    or after the bulk of the data's dates (see raw_orders_date_bulk_tail_share) is excluded as
    `invalid_date`. Unset (null) switches the rule off.
-#}
{% macro raw_orders_max_days_outside_date_bulk_setting() %}
    {{ return(validated_whole_number("raw_orders_max_days_outside_date_bulk", 0, 100000,
        allow_none=true, meaning="days, for example 365")) }}
{% endmacro %}
