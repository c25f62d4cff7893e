{#- The var prediction_horizon_days: the backtest's horizon and the probability's, 1 to 3,650. -#}
{% macro prediction_horizon_days_setting() %}
    {{ return(validated_whole_number("prediction_horizon_days", 1, 3650,
        meaning="days ahead, for example 90")) }}
{% endmacro %}
