{#-
    The var raw_orders_max_abs_unit_price: a line whose unit price is further from zero than
    this is excluded as `implausible_value`. The default keeps every line of the real Online
    Retail data (largest: 38,970). Together with raw_orders_max_abs_quantity it bounds every
    line amount below 10^14, so that the amount fits line_amount's type, numeric(18, 2).
-#}
{% macro raw_orders_max_abs_unit_price_setting() %}
    {%- set max_price = validated_whole_number("raw_orders_max_abs_unit_price", 1, 100000000000000,
        meaning="currency units per unit, for example 1000000") -%}
    {%- set max_quantity = raw_orders_max_abs_quantity_setting() -%}
    {%- if max_price * max_quantity > 100000000000000 -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt vars raw_orders_max_abs_quantity (" ~ max_quantity ~ ") and "
            ~ "raw_orders_max_abs_unit_price (" ~ max_price ~ ") allow line amounts above 10^14, "
            ~ "which do not fit the amounts' type numeric(18, 2): lower one of them.") -%}
    {%- endif -%}
    {{ return(max_price) }}
{% endmacro %}
