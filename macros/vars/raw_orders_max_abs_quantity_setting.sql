{#-
    The var raw_orders_max_abs_quantity: a line whose quantity is further from zero than this is
    excluded as `implausible_value` (a barcode scanned into the quantity field). The default
    keeps every line of the real Online Retail data (largest: 80,995).
-#}
{% macro raw_orders_max_abs_quantity_setting() %}
    {{ return(validated_whole_number("raw_orders_max_abs_quantity", 1, 1000000000000,
        meaning="units per line, for example 1000000")) }}
{% endmacro %}
