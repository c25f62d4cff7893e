{#-
    numerator / denominator rounded half away from zero to `scale` decimals, the same on every
    engine. A plain cast of the quotient to numeric(18, 2) is not: DuckDB divides decimals in
    floating point (113.33 / 2 = 56.66499999...) and the cast rounds that down to 56.66, while
    Spark divides exactly (56.665) and rounds up to 56.67. Here the numerator is scaled first
    (exact: 11333), so the quotient is either exactly k.5 or at least 1/denominator away from
    it, and round() gives the same on both (56.67). Exact while numerator x 10^scale < 2^53.
-#}
{% macro rounded_division(numerator_sql, denominator_sql, scale=2) %}
    {%- set factor = 10 ** scale -%}
    round({{ numerator_sql }} * {{ factor }} / {{ denominator_sql }}) / {{ factor }}
{%- endmacro %}
