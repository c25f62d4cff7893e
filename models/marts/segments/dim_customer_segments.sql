{#-
    Everything about every customer's segment as of as_of_date: one row per customer with a kept
    line before it. The RFM values and scores, the classic RFM segment, the persona (a rule
    persona, or the cluster's earned name or its descriptive fallback) with its name,
    description and action, how firmly the customer belongs to the cluster, and the probability
    of a purchase in the next prediction_horizon_days. Customers whose only lines are returns
    have persona no_purchase and no RFM scores.

    meets_persona_conditions: a cluster carries a persona's name when its median customer and at
    least cluster_min_share_meeting_conditions of its members meet the persona's conditions
    (cluster_persona_conditions); this says, customer by customer, who does. The measures are
    the naming step's (customer_segments.personas.customer_measures): gaps_since_last_purchase
    = recency_days / max(average_purchase_gap_days, 7), none for one order; a condition on a
    missing measure is not met. True for a rule persona (the rule is the definition), NULL for a
    fallback cluster (`segment_<n>`: no persona to meet).
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

persona_conditions as (

    select * from {{ ref('cluster_persona_conditions') }}

),

customer_measures as (

    select
        customers.customer_id,
        customer_clusters.persona_key,
        cast(customers.recency_days as {{ double_type() }}) as recency_days,
        cast(customers.frequency as {{ double_type() }}) as frequency,
        cast(customers.monetary as {{ double_type() }}) as monetary,
        cast(customers.tenure_days as {{ double_type() }}) as tenure_days,
        cast(customers.average_purchase_gap_days as {{ double_type() }})
            as average_purchase_gap_days,
        customers.frequency >= 2 as is_repeat_customer

    from customers
    inner join customer_clusters
        on customers.customer_id = customer_clusters.customer_id
    where customer_clusters.cluster_id is not null

),

rhythm as (

    select
        *,
        -- 7: customer_segments.personas.MIN_PURCHASE_GAP_DAYS, a week's floor on the gap
        case
            when is_repeat_customer
                then recency_days / greatest(average_purchase_gap_days, 7.0)
        end as gaps_since_last_purchase

    from customer_measures

),

measured_conditions as (

    select
        rhythm.customer_id,
        persona_conditions.operator,
        persona_conditions.threshold,
        case persona_conditions.measure
            when 'recency_days' then rhythm.recency_days
            when 'frequency' then rhythm.frequency
            when 'monetary' then rhythm.monetary
            when 'tenure_days' then rhythm.tenure_days
            when 'average_purchase_gap_days' then rhythm.average_purchase_gap_days
            when 'gaps_since_last_purchase' then rhythm.gaps_since_last_purchase
        end as measure_value

    from rhythm
    inner join persona_conditions
        on rhythm.persona_key = persona_conditions.persona_key

),

conditions_met as (

    select
        customer_id,
        min(
            case
                when measure_value is null or threshold is null then 0
                when operator = '<' and measure_value < threshold then 1
                when operator = '<=' and measure_value <= threshold then 1
                when operator = '>' and measure_value > threshold then 1
                when operator = '>=' and measure_value >= threshold then 1
                when operator = '=' and measure_value = threshold then 1
                else 0
            end
        ) = 1 as meets_every_condition

    from measured_conditions
    group by customer_id

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
            else coalesce(conditions_met.meets_every_condition, false)
        end as meets_persona_conditions,

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
    left join conditions_met
        on customers.customer_id = conditions_met.customer_id

)

select * from final
