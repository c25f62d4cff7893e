{#-
    Every candidate k with every criterion, and which k was chosen and why: the Python step
    int_cluster_k_evaluation, published with a contract (BI tools and the report read it).
-#}

with

k_evaluation as (

    select * from {{ ref('int_cluster_k_evaluation') }}

),

final as (

    select
        cast(k as integer) as k,
        cast(voted_by as {{ string_type() }}) as voted_by,
        cast(reason as {{ string_type() }}) as reason,

        cast(n_customers_evaluated as bigint) as n_customers_evaluated,
        cast(n_silhouette_samples as bigint) as n_silhouette_samples,
        cast(inertia as {{ double_type() }}) as inertia,
        cast(silhouette as {{ double_type() }}) as silhouette,
        cast(davies_bouldin as {{ double_type() }}) as davies_bouldin,
        cast(calinski_harabasz as {{ double_type() }}) as calinski_harabasz,
        cast(elbow_distance as {{ double_type() }}) as elbow_distance,
        cast(elbow_rank as integer) as elbow_rank,
        cast(silhouette_rank as integer) as silhouette_rank,
        cast(davies_bouldin_rank as integer) as davies_bouldin_rank,
        cast(calinski_harabasz_rank as integer) as calinski_harabasz_rank,
        cast(votes as integer) as votes,
        cast(mean_rank as {{ double_type() }}) as mean_rank,
        cast(n_stability_samples as bigint) as n_stability_samples,
        cast(stability_ari as {{ double_type() }}) as stability_ari,
        cast(stability_ari_min as {{ double_type() }}) as stability_ari_min,
        cast(n_backtest_customers as bigint) as n_backtest_customers,
        cast(backtest_repeat_rate as {{ double_type() }}) as backtest_repeat_rate,
        cast(backtest_auc as {{ double_type() }}) as backtest_auc,
        cast(backtest_auc_se as {{ double_type() }}) as backtest_auc_se,
        cast(unnamed_clusters as integer) as unnamed_clusters,

        is_reproducible,
        is_chosen

    from k_evaluation

)

select * from final
