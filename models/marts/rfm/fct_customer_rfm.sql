{#-
    The RFM of every customer with a purchase before as_of_date: the as_of_date rows of
    int_customer_rfm_snapshots (where the measures, scores and classic segment are computed
    for every snapshot date alike).
-#}

with

rfm_snapshots as (

    select * from {{ ref('int_customer_rfm_snapshots') }}

),

snapshot_dates as (

    select * from {{ ref('int_rfm_snapshot_dates') }}

),

final as (

    select
        rfm_snapshots.customer_id,
        rfm_snapshots.country,
        rfm_snapshots.rfm_score,
        rfm_snapshots.rfm_segment_key,
        rfm_snapshots.rfm_segment,

        rfm_snapshots.recency_days,
        rfm_snapshots.tenure_days,
        rfm_snapshots.frequency,
        rfm_snapshots.monetary,
        rfm_snapshots.gross_revenue,
        rfm_snapshots.returned_revenue,
        rfm_snapshots.average_order_value,
        rfm_snapshots.average_purchase_gap_days,
        rfm_snapshots.recency_score,
        rfm_snapshots.frequency_score,
        rfm_snapshots.monetary_score,

        rfm_snapshots.first_purchase_date,
        rfm_snapshots.last_purchase_date,
        rfm_snapshots.snapshot_date as as_of_date

    from rfm_snapshots
    inner join snapshot_dates
        on rfm_snapshots.snapshot_date = snapshot_dates.snapshot_date
    where snapshot_dates.is_as_of_date
        and rfm_snapshots.has_purchase

)

select * from final
