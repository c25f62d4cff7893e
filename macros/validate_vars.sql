{#
    on-run-start: check every user-set var before any model runs, so that a bad value stops the
    whole build before a single table is replaced.
#}
{% macro validate_vars() %}
    {%- if execute -%}
        {%- do as_of_date_literal() -%}
        {%- do cluster_k_setting() -%}
        {%- do whole_number_setting("history_months", minimum=0, maximum=120) -%}
        {%- do whole_number_setting("prediction_horizon_days", minimum=1, maximum=3650) -%}
        {%- do number_setting("drift_psi_threshold", exclusive_minimum=0) -%}
        {%- do cluster_feature_list() -%}
    {%- endif -%}
    {{ return("") }}
{% endmacro %}


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
