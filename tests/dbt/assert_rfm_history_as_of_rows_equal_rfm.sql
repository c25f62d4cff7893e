-- The as_of_date rows of fct_customer_rfm_history are fct_customer_rfm, row for row and value
-- for value. Returns the rows found on one side only.
with

history as (

    select
        customer_id,
        country,
        rfm_score,
        rfm_segment_key,
        rfm_segment,
        recency_days,
        tenure_days,
        frequency,
        monetary,
        gross_revenue,
        returned_revenue,
        average_order_value,
        average_purchase_gap_days,
        recency_score,
        frequency_score,
        monetary_score,
        first_purchase_date,
        last_purchase_date,
        snapshot_date as as_of_date
    from {{ ref('fct_customer_rfm_history') }}
    where is_as_of_date

),

rfm as (

    select
        customer_id,
        country,
        rfm_score,
        rfm_segment_key,
        rfm_segment,
        recency_days,
        tenure_days,
        frequency,
        monetary,
        gross_revenue,
        returned_revenue,
        average_order_value,
        average_purchase_gap_days,
        recency_score,
        frequency_score,
        monetary_score,
        first_purchase_date,
        last_purchase_date,
        as_of_date
    from {{ ref('fct_customer_rfm') }}

),

only_in_history as (

    select * from history
    {{ dbt.except() }}
    select * from rfm

),

only_in_rfm as (

    select * from rfm
    {{ dbt.except() }}
    select * from history

)

select
    'only in fct_customer_rfm_history' as side,
    *
from only_in_history
union all
select
    'only in fct_customer_rfm' as side,
    *
from only_in_rfm
