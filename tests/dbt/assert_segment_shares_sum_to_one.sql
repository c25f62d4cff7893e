-- Customer shares of the clusters and of the persona summary each sum to 1, and every customer
-- of the RFM mart is in exactly one segment. The RFM mart holds the customers with a purchase;
-- dim_customer_segments also holds those whose only kept lines are returns (persona
-- no_purchase, frequency 0), so those are left out of the comparison. Returns a row for each
-- broken total.
with

totals as (

    select
        'cluster_centroids.customer_share' as total,
        sum(customer_share) as value
    from {{ ref('cluster_centroids') }}
    union all
    select
        'fct_segment_summary.customer_share' as total,
        sum(customer_share) as value
    from {{ ref('fct_segment_summary') }}
    union all
    select
        'fct_segment_summary.revenue_share' as total,
        sum(revenue_share) as value
    from {{ ref('fct_segment_summary') }}
    union all
    select
        'dim_customer_segments customers with a purchase / fct_customer_rfm customers' as total,
        (
            select count(*) from {{ ref('dim_customer_segments') }}
            where frequency > 0
        ) * 1.0
        / (select count(*) from {{ ref('fct_customer_rfm') }}) as value

)

select *
from totals
where value is null or abs(value - 1) > 1e-9
