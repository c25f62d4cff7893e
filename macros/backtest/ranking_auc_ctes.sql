{#
    CTEs that compute, for every `ranking` of `scored` (a relation or CTE with columns ranking,
    score and is_positive), the area under the ROC curve: the probability that a random positive
    scores above a random negative, ties counted as half. Mann-Whitney: (sum of the positives'
    mid-ranks - P (P + 1) / 2) / (P x N), mid-rank = the rank of the first of a run of ties plus
    half the run. The last CTE, `output`, has ranking, customers, positives and auc. The same
    value as scikit-learn's roc_auc_score (tested).
#}
{% macro ranking_auc_ctes(scored, output) %}

    {{ output }}__ranked as (

        select
            ranking,
            is_positive,
            rank() over (partition by ranking order by score) as first_rank,
            count(*) over (partition by ranking, score) as ties

        from {{ scored }}

    ),

    {{ output }} as (

        select
            ranking,
            count(*) as customers,
            sum(case when is_positive then 1 else 0 end) as positives,
            (
                sum(case when is_positive then first_rank + (ties - 1) / 2.0 else 0 end)
                - sum(case when is_positive then 1 else 0 end)
                * (sum(case when is_positive then 1 else 0 end) + 1) / 2.0
            ) / nullif(
                cast(sum(case when is_positive then 1 else 0 end) as {{ double_type() }})
                * sum(case when is_positive then 0 else 1 end),
                0
            ) as auc

        from {{ output }}__ranked
        group by ranking

    )
{% endmacro %}
