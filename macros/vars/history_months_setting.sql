{#- The var history_months: month starts of the history before as_of_date, from 0 to 120. -#}
{% macro history_months_setting() %}
    {{ return(validated_whole_number("history_months", 0, 120,
        meaning="months of history, for example 12; 0 for none")) }}
{% endmacro %}
