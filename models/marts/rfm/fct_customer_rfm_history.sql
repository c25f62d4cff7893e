{#-
    The RFM of every customer with a purchase before each snapshot date of the history: the
    first day of each of the last `history_months` months before as_of_date, and as_of_date
    itself. The rows of a snapshot date are those of int_customer_rfm_snapshots for that date:
    what fct_customer_rfm holds in a build with as_of_date set to it (quintile scores among
    that date's customers, classic segment of that date).
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
        rfm_snapshots.snapshot_date,
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

        snapshot_dates.is_as_of_date,

        rfm_snapshots.first_purchase_date,
        rfm_snapshots.last_purchase_date

    from rfm_snapshots
    inner join snapshot_dates
        on rfm_snapshots.snapshot_date = snapshot_dates.snapshot_date
    where (snapshot_dates.is_history_month_start or snapshot_dates.is_as_of_date)
        and rfm_snapshots.has_purchase

)

select * from final
