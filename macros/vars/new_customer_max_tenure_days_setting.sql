{#- The var new_customer_max_tenure_days of the persona conditions, from 1 to 3,650. -#}
{% macro new_customer_max_tenure_days_setting() %}
    {{ return(validated_whole_number("new_customer_max_tenure_days", 1, 3650,
        meaning="a customer is new this many days after the first purchase, for example 90")) }}
{% endmacro %}
