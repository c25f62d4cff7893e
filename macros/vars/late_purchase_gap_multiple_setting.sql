{#- The var late_purchase_gap_multiple of the persona conditions: a number above 0. -#}
{% macro late_purchase_gap_multiple_setting() %}
    {{ return(validated_number("late_purchase_gap_multiple", exclusive_minimum=0, maximum=1000,
        meaning="late after this many usual gaps between orders, for example 2")) }}
{% endmacro %}
