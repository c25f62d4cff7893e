with

customer_rfm as (

    select * from {{ ref('fct_customer_rfm') }}

),

customer_clusters as (

    select * from {{ ref('customer_clusters') }}

),

cluster_personas as (

    select * from {{ ref('cluster_personas') }}

),

final as (

    select
        customer_rfm.customer_id,
        cast(customer_clusters.cluster_id as integer) as cluster_id,
        customer_rfm.country,
        customer_clusters.persona_key,
        cluster_personas.display_name as persona_name,
        cluster_personas.description as persona_description,
        cluster_personas.recommended_action as persona_recommended_action,
        customer_rfm.rfm_segment_key,
        customer_rfm.rfm_segment,
        customer_rfm.rfm_score,

        cast(customer_clusters.distance_to_centroid as double) as distance_to_centroid,
        cast(customer_clusters.margin_to_next_centroid as double) as margin_to_next_centroid,
        customer_rfm.recency_days,
        customer_rfm.tenure_days,
        customer_rfm.frequency,
        customer_rfm.monetary,
        customer_rfm.gross_revenue,
        customer_rfm.returned_revenue,
        customer_rfm.average_order_value,
        customer_rfm.recency_score,
        customer_rfm.frequency_score,
        customer_rfm.monetary_score,

        customer_rfm.first_purchase_date,
        customer_rfm.last_purchase_date,
        customer_rfm.as_of_date

    from customer_rfm
    inner join customer_clusters
        on customer_rfm.customer_id = customer_clusters.customer_id
    left join cluster_personas
        on customer_clusters.persona_key = cluster_personas.persona_key

)

select * from final
