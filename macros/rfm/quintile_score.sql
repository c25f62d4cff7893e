{#
    A 1-5 score by quintile of `column_sql` over all rows (of each `partition_by` group): 1 +
    floor(5 * (rank - 1) / n), where rank counts the rows with a strictly "worse" value plus one.
    Equal values always get equal scores whatever the row order (rank, not row_number), and the
    worst value always scores 1. `descending=true` scores small values best (recency: most
    recent = 5). The division is in floating point on every engine: Spark divides decimals to 6
    places, which above a million customers would round a quotient just below a whole number up
    to it.
#}
{% macro quintile_score(column_sql, descending=false, partition_by=none) %}
    {%- set window = ("partition by " ~ partition_by ~ " ") if partition_by else "" -%}
    cast(
        1 + floor(
            cast(
                5 * (rank() over ({{ window }}order by {{ column_sql }} {{ "desc" if descending else "asc" }}) - 1)
                as {{ double_type() }}
            ) / count(*) over ({{ window | trim }})
        )
        as integer
    )
{% endmacro %}
