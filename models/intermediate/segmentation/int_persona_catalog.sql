{#-
    Every persona a customer can have in this build, one row each: the personas of the
    clusters (cluster_centroids: names earned by conditions, and the `segment_<n>` fallbacks
    with their generated descriptions) and the rule personas of the seed (refunded,
    no_purchase). Names, descriptions, actions and the value order come from here. A fallback
    cluster ranks like the first persona whose conditions it meets (its value_rank is NULL when
    it meets none).
-#}

with

centroids as (

    select * from {{ ref('cluster_centroids') }}

),

cluster_personas as (

    select * from {{ ref('cluster_personas') }}

),

cluster_catalog as (

    select
        centroids.persona_key,
        centroids.persona_name,
        centroids.persona_description,
        centroids.persona_recommended_action,
        'cluster' as assigned_by,
        coalesce(centroids.value_rank, first_eligible.value_rank) as value_rank,
        centroids.cluster_id,
        centroids.is_fallback

    from centroids
    left join cluster_personas as first_eligible
        on first_eligible.persona_key
            = trim({{ dbt.split_part('centroids.eligible_persona_keys', "','", 1) }})

),

rule_catalog as (

    select
        persona_key,
        display_name as persona_name,
        description as persona_description,
        recommended_action as persona_recommended_action,
        'rule' as assigned_by,
        value_rank,
        cast(null as integer) as cluster_id,
        false as is_fallback

    from cluster_personas
    where assigned_by = 'rule'

),

final as (

    select * from cluster_catalog
    union all
    select * from rule_catalog

)

select * from final
