{#
    on-run-start: check every user-set var before any model runs, so that a bad value stops the
    whole build before a single table is replaced.
#}
{% macro validate_vars() %}
    {%- if execute -%}
        {%- do as_of_date_literal() -%}
    {%- endif -%}
    {{ return("") }}
{% endmacro %}
