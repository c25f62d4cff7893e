-- Which at-risk customers are worth winning back, and how much did they spend?
-- At-risk persona (once frequent, stopped coming) with a monetary score of 4 or 5 (top 40% of
-- net revenue), biggest spenders first. `dbt compile` writes it with the schema resolved to
-- target/compiled/customer_segments/analyses/.
select
    customer_id,
    country,
    last_purchase_date,
    recency_days,
    frequency,
    monetary,
    average_order_value,
    rfm_segment
from {{ ref('dim_customer_segments') }}
where persona_key = 'at_risk'
    and monetary_score >= 4
order by monetary desc
