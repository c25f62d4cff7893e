-- Scored on as_of_date's thresholds (int_rfm_score_thresholds), the customers of as_of_date get
-- exactly their fct_customer_rfm scores and segment. Returns the customers that do not.
select
    snapshots.customer_id,
    snapshots.recency_score as rescored_recency,
    rfm.recency_score,
    snapshots.frequency_score as rescored_frequency,
    rfm.frequency_score,
    snapshots.monetary_score as rescored_monetary,
    rfm.monetary_score
from {{ ref('int_customer_segment_snapshots') }} as snapshots
inner join {{ ref('fct_customer_rfm') }} as rfm
    on snapshots.customer_id = rfm.customer_id
where snapshots.is_as_of_date
    and (
        snapshots.recency_score != rfm.recency_score
        or snapshots.frequency_score != rfm.frequency_score
        or snapshots.monetary_score != rfm.monetary_score
        or snapshots.rfm_segment_key != rfm.rfm_segment_key
    )
