{#-
    Every customer with a purchase before as_of_date judged against every persona of the seed
    that is assigned by conditions: one row per customer and persona, whether the customer meets
    every one of its conditions themselves (cluster_persona_conditions: the thresholds as of
    as_of_date), and is_first_match for the first persona, in the seed's match_priority, that
    they meet. The measures are the naming step's (customer_segments.personas.customer_measures):
    gaps_since_last_purchase = recency_days / max(average_purchase_gap_days, 7), none for one
    order; a condition on a missing measure is not met. dim_customer_segments reads both the
    verdict on the customer's own persona (meets_persona_conditions) and the first match
    (matched_persona_key).
-#}

with

customers as (

    select * from {{ ref('int_customer_purchase_snapshots') }}
    where snapshot_role = 'as_of_date' and frequency > 0

),

persona_conditions as (

    select * from {{ ref('cluster_persona_conditions') }}

),

cluster_personas as (

    select * from {{ ref('cluster_personas') }}
    where assigned_by = 'conditions'

),

customer_measures as (

    select
        customer_id,
        cast(recency_days as {{ double_type() }}) as recency_days,
        cast(frequency as {{ double_type() }}) as frequency,
        cast(monetary as {{ double_type() }}) as monetary,
        cast(tenure_days as {{ double_type() }}) as tenure_days,
        cast(average_purchase_gap_days as {{ double_type() }}) as average_purchase_gap_days,
        frequency >= 2 as is_repeat_customer

    from customers

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
        persona_conditions.persona_key,
        cluster_personas.match_priority,
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
    cross join persona_conditions
    inner join cluster_personas
        on persona_conditions.persona_key = cluster_personas.persona_key

),

conditions_met as (

    select
        customer_id,
        persona_key,
        match_priority,
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
    group by customer_id, persona_key, match_priority

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by case when meets_every_condition then 0 else 1 end, match_priority
        ) as match_rank

    from conditions_met

),

final as (

    select
        customer_id,
        persona_key,
        match_priority,
        meets_every_condition,
        meets_every_condition and match_rank = 1 as is_first_match

    from ranked

)

select * from final
