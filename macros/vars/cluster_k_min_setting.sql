{#- The var cluster_k_min: the smallest candidate k of cluster_k = auto, from 2 to 20. -#}
{% macro cluster_k_min_setting() %}
    {{ return(validated_whole_number("cluster_k_min", 2, 20,
        meaning="the smallest number of clusters to consider, for example 3")) }}
{% endmacro %}
