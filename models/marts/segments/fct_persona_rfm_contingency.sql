-- Contingency table of cluster personas against classic RFM segments: how many customers fall in
-- each (persona, RFM segment) pair, so that clusters can be explained in familiar names. Over the
-- customers with a purchase (those without one have no classic segment).
with

customer_segments as (

    select * from {{ ref('dim_customer_segments') }}

),

pairs as (

    select
        persona_key,
        rfm_segment_key,
        rfm_segment,
        count(*) as customer_count

    from customer_segments
    where rfm_segment_key is not null
    group by persona_key, rfm_segment_key, rfm_segment

),

final as (

    select
        {{ dbt.concat(['persona_key', "'|'", 'rfm_segment_key']) }} as persona_rfm_segment_id,
        persona_key,
        rfm_segment_key,
        rfm_segment,
        customer_count,
        -- In floating point on every engine: Spark would divide decimals and keep 6 places.
        cast(customer_count as {{ double_type() }})
        / sum(customer_count) over (partition by persona_key) as share_of_persona,
        cast(customer_count as {{ double_type() }})
        / sum(customer_count) over (partition by rfm_segment_key) as share_of_rfm_segment,
        cast(customer_count as {{ double_type() }}) / sum(customer_count) over ()
            as share_of_customers

    from pairs

)

select * from final
