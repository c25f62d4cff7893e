{#-
    Everything about every customer's segment as of as_of_date: one row per customer with a kept
    line before it. The RFM values and scores, the classic RFM segment, the persona (a rule
    persona, or the cluster's earned name or its descriptive fallback) with its name,
    description and action, how firmly the customer belongs to the cluster, and the probability
    of a purchase in the next prediction_horizon_days. Customers whose only lines are returns
    have persona no_purchase and no RFM scores.

    meets_persona_conditions: a cluster carries a persona's name when its median customer and at
    least cluster_min_share_meeting_conditions of its members meet the persona's conditions
    (cluster_persona_conditions); this says, customer by customer, who does
    (int_customer_persona_matches). True for a rule persona (the rule is the definition),
    NULL for a fallback cluster (`segment_<n>`: no persona to meet).

    matched_persona_key: the same conditions judged for every persona of the seed, whatever the
    customer's cluster: the first persona in the seed's match_priority whose conditions the
    customer meets (NULL when none). Only one cluster can carry a name, so a cluster's name
    misses the members of other clusters who fit it (new customers in an unnamed cluster); this
    column finds them, one persona per customer (`new` comes first, so every new customer is
    matched to it). A rule persona's customers keep it.
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

persona_matches as (

    select * from {{ ref('int_customer_persona_matches') }}

),

cluster_personas as (

    select * from {{ ref('cluster_personas') }}

),

own_persona_conditions as (

    select
        persona_matches.customer_id,
        persona_matches.meets_every_condition

    from persona_matches
    inner join customer_clusters
        on
            persona_matches.customer_id = customer_clusters.customer_id
            and persona_matches.persona_key = customer_clusters.persona_key

),

first_matched_personas as (

    select
        persona_matches.customer_id,
        persona_matches.persona_key,
        cluster_personas.display_name

    from persona_matches
    inner join cluster_personas
        on persona_matches.persona_key = cluster_personas.persona_key
    where persona_matches.is_first_match

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
        -- No purchase before as_of_date (no_purchase: only returns): nothing to predict from.
        cast(
            case when customers.frequency > 0 then probabilities.next_purchase_probability end
            as {{ double_type() }}
        ) as next_purchase_probability,
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
        case
            when persona_catalog.assigned_by = 'rule' then true
            when persona_catalog.is_fallback then null
            else coalesce(own_persona_conditions.meets_every_condition, false)
        end as meets_persona_conditions,
        case
            when persona_catalog.assigned_by = 'rule' then customer_clusters.persona_key
            else first_matched_personas.persona_key
        end as matched_persona_key,
        case
            when persona_catalog.assigned_by = 'rule' then persona_catalog.persona_name
            else first_matched_personas.display_name
        end as matched_persona_name,

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
    left join own_persona_conditions
        on customers.customer_id = own_persona_conditions.customer_id
    left join first_matched_personas
        on customers.customer_id = first_matched_personas.customer_id

)

select * from final
