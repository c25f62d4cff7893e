{#-
    Every customer's segment on every snapshot date of the history (the month starts and
    as_of_date): the persona of the model fitted as of as_of_date, assigned in SQL to the
    customer's RFM of that date as customer_clusters assigns it (a rule persona of the seed, else
    the nearest centroid), and the classic RFM segment on the
    scale of as_of_date's quintiles. Model and scale are those of as_of_date, so a customer's
    move from one snapshot to the next means the customer changed. The as_of_date rows equal
    dim_customer_segments.
-#}

with

segment_snapshots as (

    select
        *,
        {{ rule_persona_key() }} as rule_persona_key
    from {{ ref('int_customer_segment_snapshots') }}

),

clustered_customers as (

    select * from segment_snapshots
    where rule_persona_key is null

),

{{ nearest_centroid_ctes('clustered_customers', ['snapshot_date', 'customer_id'], 'assigned') }},

final as (

    select
        segment_snapshots.snapshot_date,
        segment_snapshots.customer_id,
        cast(assigned.cluster_id as integer) as cluster_id,
        segment_snapshots.country,
        coalesce(segment_snapshots.rule_persona_key, assigned.persona_key) as persona_key,
        segment_snapshots.rfm_segment_key,
        segment_snapshots.rfm_segment,

        cast(assigned.distance_to_centroid as {{ double_type() }}) as distance_to_centroid,
        cast(assigned.margin_to_next_centroid as {{ double_type() }}) as margin_to_next_centroid,
        segment_snapshots.recency_days,
        segment_snapshots.tenure_days,
        segment_snapshots.frequency,
        segment_snapshots.monetary,
        segment_snapshots.recency_score,
        segment_snapshots.frequency_score,
        segment_snapshots.monetary_score,

        segment_snapshots.is_as_of_date

    from segment_snapshots
    left join assigned
        on segment_snapshots.snapshot_date = assigned.snapshot_date
            and segment_snapshots.customer_id = assigned.customer_id

)

select * from final
