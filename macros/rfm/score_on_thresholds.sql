{#
    The 1-5 quintile score of `value_sql` on the scale of int_rfm_score_thresholds (the scores of
    as_of_date): 1 plus the number of score thresholds the value passes. `column` is the
    measure (recency_days, frequency or monetary); `thresholds` the alias of the thresholds row.
#}
{% macro score_on_thresholds(value_sql, column, thresholds="thresholds") %}
    {%- set side, comparison = ("below", "<") if column == "recency_days" else ("above", ">") -%}
    cast(
        1
        {%- for score in range(2, 6) %}
        + case
            when {{ value_sql }} {{ comparison }} {{ thresholds }}.{{ column }}_score_{{ score }}_{{ side }}
                then 1
            else 0
        end
        {%- endfor %}
        as integer
    )
{% endmacro %}
