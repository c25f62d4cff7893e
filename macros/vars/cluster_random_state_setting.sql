{#- The var cluster_random_state: the k-means++ seed, a whole number numpy accepts (0 to 2^32 - 1). -#}
{% macro cluster_random_state_setting() %}
    {{ return(validated_whole_number("cluster_random_state", 0, 4294967295,
        meaning="the k-means++ seed, for example 42")) }}
{% endmacro %}
