{#-
    Every customer with a kept line before each snapshot date of the history (the month starts
    and as_of_date), scored on the scale of as_of_date: the 1-5 scores against the thresholds of
    as_of_date's quintiles (int_rfm_score_thresholds) and the classic RFM segment of that cell.
    On as_of_date itself this gives fct_customer_rfm's scores back; on an earlier date a
    customer's segment changes only when the customer did. Customers without a purchase before
    the date have no scores and no classic segment.
-#}

with

rfm_snapshots as (

    select * from {{ ref('int_customer_rfm_snapshots') }}

),

snapshot_dates as (

    select * from {{ ref('int_rfm_snapshot_dates') }}

),

rfm_history as (

    select
        rfm_snapshots.*,
        snapshot_dates.is_as_of_date

    from rfm_snapshots
    inner join snapshot_dates
        on rfm_snapshots.snapshot_date = snapshot_dates.snapshot_date
    where snapshot_dates.is_history_month_start or snapshot_dates.is_as_of_date

),

thresholds as (

    select * from {{ ref('int_rfm_score_thresholds') }}

),

rfm_segment_grid as (

    select * from {{ ref('rfm_segment_grid') }}

),

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

scored as (

    select
        rfm_history.*,
        case when rfm_history.has_purchase then
                {{ score_on_thresholds('rfm_history.recency_days', 'recency_days') }}
        end as as_of_recency_score,
        case when rfm_history.has_purchase then
                {{ score_on_thresholds('rfm_history.frequency', 'frequency') }}
        end as as_of_frequency_score,
        case when rfm_history.has_purchase then
                {{ score_on_thresholds('rfm_history.monetary', 'monetary') }}
        end as as_of_monetary_score

    from rfm_history
    cross join thresholds

),

final as (

    select
        scored.snapshot_date,
        scored.customer_id,
        scored.country,
        rfm_segments.rfm_segment_key,
        rfm_segments.rfm_segment,

        scored.recency_days,
        scored.tenure_days,
        scored.frequency,
        scored.monetary,
        scored.gross_revenue,
        scored.returned_revenue,
        scored.average_order_value,
        scored.as_of_recency_score as recency_score,
        scored.as_of_frequency_score as frequency_score,
        scored.as_of_monetary_score as monetary_score,

        scored.has_purchase,
        scored.is_as_of_date,

        scored.first_purchase_date,
        scored.last_purchase_date

    from scored
    left join rfm_segment_grid
        on scored.as_of_recency_score = rfm_segment_grid.recency_score
            and scored.as_of_frequency_score = rfm_segment_grid.frequency_score
    left join rfm_segments
        on rfm_segment_grid.rfm_segment_key = rfm_segments.rfm_segment_key

)

select * from final
