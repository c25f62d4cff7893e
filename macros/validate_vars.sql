{#
    on-run-start: check every var before any model runs, so that a bad value stops the whole
    build before a single table is replaced. One macro per var (macros/vars/, each file named
    after its macro) checks it and returns the checked value; models and macros use that
    value, never the raw var, wherever it reaches SQL.
#}
{% macro validate_vars() %}
    {%- if execute -%}
        {%- do raw_orders_path_setting() -%}
        {%- do raw_orders_encoding_setting() -%}
        {%- do raw_orders_encoding_sniff_max_bytes_setting() -%}
        {%- do raw_orders_delimiter_setting() -%}
        {%- do raw_orders_timestamp_formats_setting() -%}
        {%- do raw_schema_setting() -%}
        {%- do raw_orders_max_abs_quantity_setting() -%}
        {%- do raw_orders_max_abs_unit_price_setting() -%}
        {%- do raw_orders_max_days_after_build_setting() -%}
        {%- do raw_orders_max_days_outside_date_bulk_setting() -%}
        {%- do raw_orders_date_bulk_tail_share_setting() -%}
        {%- do raw_orders_exclude_exact_duplicates_setting() -%}
        {%- do as_of_date_literal() -%}
        {%- do cluster_k_setting() -%}
        {%- do cluster_random_state_setting() -%}
        {%- do cluster_n_init_setting() -%}
        {%- do top_rfm_segments_per_persona_setting() -%}
        {%- do history_months_setting() -%}
        {%- do prediction_horizon_days_setting() -%}
        {%- do cluster_k_min_setting() -%}
        {%- do cluster_k_max_setting() -%}
        {%- do cluster_min_customers_setting() -%}
        {%- do new_customer_max_tenure_days_setting() -%}
        {%- do late_purchase_gap_multiple_setting() -%}
        {%- do cluster_min_share_meeting_conditions_setting() -%}
        {%- do drift_psi_threshold_setting() -%}
        {%- do cluster_feature_list() -%}
    {%- endif -%}
    {{ return("") }}
{% endmacro %}
