{#- The var drift_psi_threshold: the population stability index above which a refit is advised. -#}
{% macro drift_psi_threshold_setting() %}
    {{ return(validated_number("drift_psi_threshold", exclusive_minimum=0, maximum=100,
        meaning="for example 0.25")) }}
{% endmacro %}
