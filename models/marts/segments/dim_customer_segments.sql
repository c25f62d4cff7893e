{#-
    Everything about every customer's segment as of as_of_date: one row per customer with a kept
    line before it. The RFM values and scores, the classic RFM segment, the persona (a rule
    persona, or the cluster's earned name or its descriptive fallback) with its name,
    description and action, how firmly the customer belongs to the cluster, and the probability
    of a purchase in the next prediction_horizon_days. Customers whose only lines are returns
    have persona no_purchase and no RFM scores.
-#}

with

customers as (

    select * from {{ ref('int_customer_purchase_snapshots') }}
    where snapshot_role = 'as_of_date'

),

customer_clusters as (

    select * from {{ ref('customer_clusters') }}

),

persona_catalog as (

    select * from {{ ref('int_persona_catalog') }}

),

probabilities as (

    select * from {{ ref('int_purchase_probabilities') }}
    where snapshot_role = 'as_of_date'

),

final as (

    select
        customers.customer_id,
        customer_clusters.cluster_id,
        customers.country,
        customer_clusters.persona_key,
        persona_catalog.persona_name,
        persona_catalog.persona_description,
        persona_catalog.persona_recommended_action,
        customers.rfm_segment_key,
        customers.rfm_segment,
        customers.rfm_score,

        customer_clusters.distance_to_centroid,
        customer_clusters.margin_to_next_centroid,
        cast(probabilities.next_purchase_probability as {{ double_type() }})
            as next_purchase_probability,
        customers.recency_days,
        customers.tenure_days,
        customers.frequency,
        customers.monetary,
        customers.gross_revenue,
        customers.returned_revenue,
        customers.average_order_value,
        customers.average_purchase_gap_days,
        customers.recency_score,
        customers.frequency_score,
        customers.monetary_score,
        persona_catalog.value_rank as persona_value_rank,

        persona_catalog.is_fallback as is_fallback_persona,

        customers.first_purchase_date,
        customers.last_purchase_date,
        customers.snapshot_date as as_of_date

    from customers
    inner join customer_clusters
        on customers.customer_id = customer_clusters.customer_id
    left join persona_catalog
        on customer_clusters.persona_key = persona_catalog.persona_key
    left join probabilities
        on customers.customer_id = probabilities.customer_id

)

select * from final
