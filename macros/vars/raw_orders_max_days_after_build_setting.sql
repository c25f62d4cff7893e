{#-
    The var raw_orders_max_days_after_build: a line dated more than this many days after the day
    the build started (UTC; a day of slack covers time zones) is excluded as `invalid_date`.
    Unset (null) switches the rule off.
-#}
{% macro raw_orders_max_days_after_build_setting() %}
    {{ return(validated_whole_number("raw_orders_max_days_after_build", 0, 100000,
        allow_none=true, meaning="days after the build's date, for example 1")) }}
{% endmacro %}
