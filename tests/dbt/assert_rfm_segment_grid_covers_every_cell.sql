-- Every (recency_score, frequency_score) pair from 1 to 5 is mapped: returns the missing cells.
-- (Uniqueness of each pair is the unique_combination_of_columns test on the seed.)
with

scores as (

    select 1 as score
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5

),

cells as (

    select
        recency_scores.score as recency_score,
        frequency_scores.score as frequency_score
    from scores as recency_scores
    cross join scores as frequency_scores

)

select cells.*
from cells
left join {{ ref('rfm_segment_grid') }} as grid
    on cells.recency_score = grid.recency_score
        and cells.frequency_score = grid.frequency_score
where grid.rfm_segment_key is null
