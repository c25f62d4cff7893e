{#-
    One row: where the 1-5 quintile scores of as_of_date change, as values of recency, frequency
    and monetary, so that the customers of any snapshot date can be scored on the scale of
    as_of_date (fct_customer_segment_history: a move between segments then means the customer
    changed, not the population around them).

    The score of a value v among n reference customers is 1 + floor(5 x (rank - 1) / n), rank =
    1 + the number of reference values worse than v (quintile_score). So the score is at least
    s exactly when at least c(s) = ceil((s - 1) x n / 5) reference values are worse than v, that
    is when v is better than the c(s)-th worst reference value: `<measure>_score_<s>_above`
    (frequency, monetary: v above it) or `recency_days_score_<s>_below` (recency: v below it).
    Scoring a reference customer this way gives their own score back (tested).
-#}

{%- set measures = [
    {"column": "recency_days", "worst_first": "desc", "side": "below"},
    {"column": "frequency", "worst_first": "asc", "side": "above"},
    {"column": "monetary", "worst_first": "asc", "side": "above"},
] -%}

with

rfm as (

    select * from {{ ref('fct_customer_rfm') }}

),

ordered as (

    select
        count(*) over () as customer_count,
        {%- for measure in measures %}
        row_number() over (order by {{ measure.column }} {{ measure.worst_first }})
            as {{ measure.column }}_position,
        {%- endfor %}
        {{ measures | map(attribute="column") | join(", ") }}

    from rfm

),

final as (

    -- The nested loops write one column per measure and score: sqlfluff cannot follow
    -- their layout through the template.
    -- noqa: disable=LT02
    select
        {%- for measure in measures %}
        {%- set outer_loop = loop %}
        {%- for score in range(2, 6) %}
        max(
            case
                when {{ measure.column }}_position = ceil({{ score - 1 }} * customer_count / 5.0)
                    then {{ measure.column }}
            end
        ) as {{ measure.column }}_score_{{ score }}_{{ measure.side }}
        {{- "," if not (outer_loop.last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    -- noqa: enable=LT02

    from ordered

)

select * from final
