{#-
    Each customer's persona as of as_of_date, for every customer with a kept line before it:
    a rule persona of the seed when the customer meets one (refunded: net revenue zero or
    negative; no_purchase: only returns), else the nearest centroid of the stored model
    (cluster_centroids) after the stored transform (cluster_feature_transform), assigned in SQL
    exactly as a new customer or a past snapshot is, without refitting.
-#}

with

snapshots as (

    select * from {{ ref('int_customer_purchase_snapshots') }}

),

customers as (

    select
        *,
        {{ rule_persona_key() }} as rule_persona_key
    from snapshots
    where snapshot_role = 'as_of_date'

),

clustered_customers as (

    select * from customers
    where rule_persona_key is null

),

{{ nearest_centroid_ctes('clustered_customers', ['customer_id'], 'assigned') }},

final as (

    select
        customers.customer_id,
        cast(assigned.cluster_id as integer) as cluster_id,
        coalesce(customers.rule_persona_key, assigned.persona_key) as persona_key,
        cast(assigned.distance_to_centroid as {{ double_type() }}) as distance_to_centroid,
        cast(assigned.margin_to_next_centroid as {{ double_type() }}) as margin_to_next_centroid

    from customers
    left join assigned
        on customers.customer_id = assigned.customer_id

)

select * from final
