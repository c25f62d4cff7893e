-- The per-customer verdict of dim_customer_segments (meets_persona_conditions, computed in SQL)
-- and the naming step's share of members meeting their cluster's persona (cluster_centroids,
-- computed in Python) are one definition: per named cluster, the share of members whose
-- verdict is true equals share_meeting_conditions. Returns a row per cluster where they differ.
with

centroids as (

    select * from {{ ref('cluster_centroids') }}
    where not is_fallback

),

verdicts as (

    select
        cluster_id,
        count(*) as members,
        sum(case when meets_persona_conditions then 1 else 0 end) as members_meeting

    from {{ ref('dim_customer_segments') }}
    where cluster_id is not null
    group by cluster_id

)

select
    centroids.cluster_id,
    centroids.persona_key,
    centroids.share_meeting_conditions,
    verdicts.members,
    verdicts.members_meeting

from centroids
left join verdicts
    on centroids.cluster_id = verdicts.cluster_id
where verdicts.cluster_id is null
    or abs(
        cast(verdicts.members_meeting as {{ double_type() }}) / verdicts.members
        - centroids.share_meeting_conditions
    ) > 1e-9
