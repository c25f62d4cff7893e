{#-
    Each customer's cluster and persona: the nearest centroid of the stored model
    (cluster_centroids) after the stored transform (cluster_feature_transform), assigned in SQL
    exactly as a new customer or a past snapshot is, without refitting.
-#}

with

customer_rfm as (

    select * from {{ ref('fct_customer_rfm') }}

),

{{ nearest_centroid_ctes('customer_rfm', ['customer_id'], 'assigned') }},

final as (

    select
        customer_id,
        cast(cluster_id as integer) as cluster_id,
        persona_key,
        cast(distance_to_centroid as {{ double_type() }}) as distance_to_centroid,
        cast(margin_to_next_centroid as {{ double_type() }}) as margin_to_next_centroid

    from assigned

)

select * from final
