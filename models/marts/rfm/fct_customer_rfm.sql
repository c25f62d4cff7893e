with

customer_invoices as (

    select * from {{ ref('int_customer_invoices') }}

),

rfm_segment_grid as (

    select * from {{ ref('rfm_segment_grid') }}

),

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

customers as (

    select
        customer_id,
        min(as_of_date) as as_of_date,
        min(case when is_purchase_invoice then invoice_date end) as first_purchase_date,
        max(case when is_purchase_invoice then invoice_date end) as last_purchase_date,
        sum(case when is_purchase_invoice then 1 else 0 end) as frequency,
        sum(net_amount) as monetary,
        sum(purchase_amount) as gross_revenue,
        sum(returned_amount) as returned_revenue

    from customer_invoices
    group by customer_id
    -- customers with returns only before as_of_date have no purchase and no RFM
    having sum(case when is_purchase_invoice then 1 else 0 end) > 0

),

invoices_by_country as (

    select
        customer_id,
        country,
        row_number() over (
            partition by customer_id
            order by count(*) desc, country
        ) as country_rank

    from customer_invoices
    where country is not null
    group by customer_id, country

),

measured as (

    select
        customers.customer_id,
        invoices_by_country.country,
        cast(customers.frequency as integer) as frequency,
        cast(customers.monetary as numeric(18, 2)) as monetary,
        cast(customers.gross_revenue as numeric(18, 2)) as gross_revenue,
        cast(customers.returned_revenue as numeric(18, 2)) as returned_revenue,
        cast(
            {{ rounded_division('customers.gross_revenue', 'customers.frequency') }}
            as numeric(18, 2)
        ) as average_order_value,
        cast(
            {{ dbt.datediff('customers.last_purchase_date', 'customers.as_of_date', 'day') }}
            as integer
        ) as recency_days,
        cast(
            {{ dbt.datediff('customers.first_purchase_date', 'customers.as_of_date', 'day') }}
            as integer
        ) as tenure_days,
        customers.first_purchase_date,
        customers.last_purchase_date,
        customers.as_of_date

    from customers
    left join invoices_by_country
        on customers.customer_id = invoices_by_country.customer_id
        and invoices_by_country.country_rank = 1

),

scored as (

    select
        *,
        {{ quintile_score('recency_days', descending=true) }} as recency_score,
        {{ quintile_score('frequency') }} as frequency_score,
        {{ quintile_score('monetary') }} as monetary_score

    from measured

),

final as (

    select
        scored.customer_id,
        scored.country,
        {{ dbt.concat([
            dbt.safe_cast('scored.recency_score', string_type()),
            dbt.safe_cast('scored.frequency_score', string_type()),
            dbt.safe_cast('scored.monetary_score', string_type()),
        ]) }} as rfm_score,
        rfm_segments.rfm_segment_key,
        rfm_segments.rfm_segment,

        scored.recency_days,
        scored.tenure_days,
        scored.frequency,
        scored.monetary,
        scored.gross_revenue,
        scored.returned_revenue,
        scored.average_order_value,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,

        scored.first_purchase_date,
        scored.last_purchase_date,
        scored.as_of_date

    from scored
    left join rfm_segment_grid
        on scored.recency_score = rfm_segment_grid.recency_score
        and scored.frequency_score = rfm_segment_grid.frequency_score
    left join rfm_segments
        on rfm_segment_grid.rfm_segment_key = rfm_segments.rfm_segment_key

)

select * from final
