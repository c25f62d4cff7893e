{#-
    One row per cluster of the final k-means: its persona and why it earned the name, its size,
    its median customer and its centroid. The Python step int_cluster_centroids, published with
    a contract (BI tools and the report read it). The centroid columns follow the var
    cluster_features: `<source column>` in original units and `<feature>_z` in model space.
-#}

{%- set features = cluster_feature_list() -%}
{%- set measures = [
    "recency_days", "frequency", "monetary", "tenure_days", "average_purchase_gap_days",
    "gaps_since_last_purchase",
] -%}

with

centroids as (

    select * from {{ ref('int_cluster_centroids') }}

),

final as (

    select
        cast(cluster_id as integer) as cluster_id,
        cast(persona_key as {{ string_type() }}) as persona_key,
        cast(persona_name as {{ string_type() }}) as persona_name,
        cast(persona_description as {{ string_type() }}) as persona_description,
        cast(persona_recommended_action as {{ string_type() }}) as persona_recommended_action,
        cast(eligible_persona_keys as {{ string_type() }}) as eligible_persona_keys,
        cast(naming_reason as {{ string_type() }}) as naming_reason,
        cast(runner_up_persona_key as {{ string_type() }}) as runner_up_persona_key,
        cast(runner_up_reason as {{ string_type() }}) as runner_up_reason,

        cast(customer_count as bigint) as customer_count,
        cast(customer_share as {{ double_type() }}) as customer_share,
        cast(value_rank as integer) as value_rank,
        cast(share_meeting_conditions as {{ double_type() }}) as share_meeting_conditions,
        cast(repeat_share as {{ double_type() }}) as repeat_share,
        {%- for measure in measures %}
        cast(median_{{ measure }} as {{ double_type() }}) as median_{{ measure }},
        {%- endfor %}
        {%- for feature in features %}
        cast({{ feature.source_column }} as {{ double_type() }}) as {{ feature.source_column }},
        {%- endfor %}
        {%- for feature in features %}
        cast({{ feature.name }}_z as {{ double_type() }}) as {{ feature.name }}_z,
        {%- endfor %}

        is_fallback

    from centroids

)

select * from final
