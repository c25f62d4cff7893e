{#- The var cluster_k as the Python step reads it: 'auto' or a whole number of at least 2. -#}
{% macro cluster_k_setting() %}
    {%- set text = var("cluster_k") | string | trim | lower -%}
    {%- if text == "auto" -%}
        {{ return("auto") }}
    {%- endif -%}
    {%- if not modules.re.fullmatch("[0-9]+", text) or (text | int) < 2 -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var cluster_k must be 'auto' or a whole number of at least 2 (for example 4); "
            ~ "got: " ~ (var("cluster_k") | string | truncate(80, true, "..."))) -%}
    {%- endif -%}
    {{ return(text | int) }}
{% endmacro %}
