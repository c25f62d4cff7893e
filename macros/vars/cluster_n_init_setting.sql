{#- The var cluster_n_init: k-means++ restarts per fit, from 1 to 1,000. -#}
{% macro cluster_n_init_setting() %}
    {{ return(validated_whole_number("cluster_n_init", 1, 1000,
        meaning="k-means++ restarts per fit, for example 10")) }}
{% endmacro %}
