-- Exactly one candidate k is chosen, and the centroids have that many clusters.
with

chosen as (

    select
        count(*) as chosen_rows,
        max(k) as k
    from {{ ref('cluster_k_evaluation') }}
    where is_chosen

),

clusters as (

    select count(*) as cluster_count from {{ ref('cluster_centroids') }}

)

select
    chosen.chosen_rows,
    chosen.k,
    clusters.cluster_count
from chosen
cross join clusters
where chosen.chosen_rows != 1 or chosen.k != clusters.cluster_count
