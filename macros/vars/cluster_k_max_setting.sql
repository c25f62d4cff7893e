{#-
    The var cluster_k_max: the largest candidate k of cluster_k = auto, from 2 to 20 and not
    below cluster_k_min.
-#}
{% macro cluster_k_max_setting() %}
    {%- set k_max = validated_whole_number("cluster_k_max", 2, 20,
        meaning="the largest number of clusters to consider, for example 10") -%}
    {%- if k_max < cluster_k_min_setting() -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var cluster_k_max (" ~ k_max ~ ") must not be below cluster_k_min ("
            ~ cluster_k_min_setting() ~ ")") -%}
    {%- endif -%}
    {{ return(k_max) }}
{% endmacro %}
