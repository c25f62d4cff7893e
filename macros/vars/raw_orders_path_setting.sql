{#- The var raw_orders_path (or RAW_ORDERS_PATH): one file name, trimmed; the hook checks the file. -#}
{% macro raw_orders_path_setting() %}
    {%- set raw_value = var("raw_orders_path", none) -%}
    {%- if raw_value is none or raw_value is not string or raw_value | trim == "" -%}
        {%- do exceptions.raise_compiler_error(
            "No raw orders file is set" ~ ("" if raw_value is none or raw_value is string
                else " (the var raw_orders_path must be one file name, got: "
                    ~ (raw_value | string | truncate(80, true, "...")) ~ ")")
            ~ ". " ~ raw_orders_setting_hint()) -%}
    {%- endif -%}
    {{ return(raw_value | trim) }}
{% endmacro %}
