{#
    on-run-start: check every user-set var before any model runs, so that a bad value stops the
    whole build before a single table is replaced.
#}
{% macro validate_vars() %}
    {%- if execute -%}
        {%- do as_of_date_literal() -%}
        {%- do cluster_k_setting() -%}
        {%- do whole_number_setting("history_months", minimum=0, maximum=120) -%}
        {%- do whole_number_setting("cluster_k_min", minimum=2, maximum=20) -%}
        {%- do whole_number_setting("cluster_k_max", minimum=2, maximum=20) -%}
        {%- if var("cluster_k_min") | int > var("cluster_k_max") | int -%}
            {%- do exceptions.raise_compiler_error(
                "The dbt var cluster_k_min (" ~ var("cluster_k_min") ~ ") must not exceed "
                ~ "cluster_k_max (" ~ var("cluster_k_max") ~ ")") -%}
        {%- endif -%}
        {%- do whole_number_setting("cluster_min_customers", minimum=3) -%}
        {%- do whole_number_setting("cluster_random_state", minimum=0, maximum=4294967295) -%}
        {%- do whole_number_setting("cluster_n_init", minimum=1, maximum=1000) -%}
        {%- do whole_number_setting("new_customer_max_tenure_days", minimum=1, maximum=3650) -%}
        {%- do number_setting("late_purchase_gap_multiple", exclusive_minimum=0) -%}
        {%- do number_setting("cluster_min_share_meeting_conditions", exclusive_minimum=0) -%}
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
