{#- The var cluster_min_share_meeting_conditions: above 0 and at most 1. -#}
{% macro cluster_min_share_meeting_conditions_setting() %}
    {{ return(validated_number("cluster_min_share_meeting_conditions", exclusive_minimum=0,
        maximum=1, meaning="the share of a cluster's members who must meet a name's conditions, for example 0.5")) }}
{% endmacro %}
