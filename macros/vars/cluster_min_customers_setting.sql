{#- The var cluster_min_customers: fewest customers to cluster before the build stops, 3 up. -#}
{% macro cluster_min_customers_setting() %}
    {{ return(validated_whole_number("cluster_min_customers", 3,
        meaning="customers with a purchase and net revenue above 0, for example 50")) }}
{% endmacro %}
