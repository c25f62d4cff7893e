{#- The var raw_orders_encoding_sniff_max_bytes: files up to this size are checked whole by `auto`. -#}
{% macro raw_orders_encoding_sniff_max_bytes_setting() %}
    {{ return(validated_whole_number("raw_orders_encoding_sniff_max_bytes", 0,
        meaning="bytes; files up to this size are checked whole to choose the encoding")) }}
{% endmacro %}
