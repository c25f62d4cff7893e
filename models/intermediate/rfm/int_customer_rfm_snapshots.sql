{#-
    Every customer with a kept line before a snapshot date (int_rfm_snapshot_dates), as of that
    date: recency, frequency, monetary and tenure, the 1-5 quintile scores among the customers
    with a purchase on that date and the classic RFM segment. One piece of SQL for every date,
    so fct_customer_rfm (the as_of_date rows) and fct_customer_rfm_history (the month starts)
    are by construction what a build with that as_of_date gives. Only lines invoiced before the
    snapshot date count. Customers whose only kept lines before the date are returns have
    has_purchase = false and no recency, frequency or scores.
-#}

with

customer_invoices as (

    select * from {{ ref('int_customer_invoices') }}

),

snapshot_dates as (

    select * from {{ ref('int_rfm_snapshot_dates') }}

),

rfm_segment_grid as (

    select * from {{ ref('rfm_segment_grid') }}

),

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

invoices_before_snapshot as (

    select
        snapshot_dates.snapshot_date,
        customer_invoices.customer_id,
        customer_invoices.invoice_id,
        customer_invoices.country,
        customer_invoices.purchase_amount,
        customer_invoices.returned_amount,
        customer_invoices.net_amount,
        customer_invoices.is_purchase_invoice,
        customer_invoices.invoice_date

    from snapshot_dates
    inner join customer_invoices
        on snapshot_dates.snapshot_date > customer_invoices.invoice_date

),

customers as (

    select
        snapshot_date,
        customer_id,
        min(case when is_purchase_invoice then invoice_date end) as first_purchase_date,
        max(case when is_purchase_invoice then invoice_date end) as last_purchase_date,
        count(distinct case when is_purchase_invoice then invoice_id end) as frequency,
        sum(net_amount) as monetary,
        sum(purchase_amount) as gross_revenue,
        sum(returned_amount) as returned_revenue

    from invoices_before_snapshot
    group by snapshot_date, customer_id

),

invoices_by_country as (

    select
        snapshot_date,
        customer_id,
        country,
        row_number() over (
            partition by snapshot_date, customer_id
            order by count(distinct invoice_id) desc, country
        ) as country_rank

    from invoices_before_snapshot
    where country is not null
    group by snapshot_date, customer_id, country

),

measured as (

    select
        customers.snapshot_date,
        customers.customer_id,
        invoices_by_country.country,
        customers.frequency > 0 as has_purchase,
        cast(customers.frequency as integer) as frequency,
        cast(customers.monetary as numeric(18, 2)) as monetary,
        cast(customers.gross_revenue as numeric(18, 2)) as gross_revenue,
        cast(customers.returned_revenue as numeric(18, 2)) as returned_revenue,
        cast(
            {{ rounded_division('customers.gross_revenue', 'nullif(customers.frequency, 0)') }}
            as numeric(18, 2)
        ) as average_order_value,
        cast(
            {{ dbt.datediff('customers.last_purchase_date', 'customers.snapshot_date', 'day') }}
            as integer
        ) as recency_days,
        cast(
            {{ dbt.datediff('customers.first_purchase_date', 'customers.snapshot_date', 'day') }}
            as integer
        ) as tenure_days,
        case
            when customers.frequency >= 2 then
                cast(
                    {{ dbt.datediff(
                        'customers.first_purchase_date', 'customers.last_purchase_date', 'day'
                    ) }} as {{ double_type() }}
                ) / (customers.frequency - 1)
        end as average_purchase_gap_days,
        customers.first_purchase_date,
        customers.last_purchase_date

    from customers
    left join invoices_by_country
        on customers.snapshot_date = invoices_by_country.snapshot_date
            and customers.customer_id = invoices_by_country.customer_id
            and invoices_by_country.country_rank = 1

),

scored_purchasers as (

    select
        snapshot_date,
        customer_id,
        {{ quintile_score('recency_days', descending=true, partition_by='snapshot_date') }}
            as recency_score,
        {{ quintile_score('frequency', partition_by='snapshot_date') }} as frequency_score,
        {{ quintile_score('monetary', partition_by='snapshot_date') }} as monetary_score

    from measured
    where has_purchase

),

final as (

    select
        measured.snapshot_date,
        measured.customer_id,
        measured.country,
        {{ dbt.concat([
            dbt.safe_cast('scored_purchasers.recency_score', string_type()),
            dbt.safe_cast('scored_purchasers.frequency_score', string_type()),
            dbt.safe_cast('scored_purchasers.monetary_score', string_type()),
        ]) }} as rfm_score,
        rfm_segments.rfm_segment_key,
        rfm_segments.rfm_segment,

        measured.recency_days,
        measured.tenure_days,
        measured.frequency,
        measured.monetary,
        measured.gross_revenue,
        measured.returned_revenue,
        measured.average_order_value,
        measured.average_purchase_gap_days,
        scored_purchasers.recency_score,
        scored_purchasers.frequency_score,
        scored_purchasers.monetary_score,

        measured.has_purchase,

        measured.first_purchase_date,
        measured.last_purchase_date

    from measured
    left join scored_purchasers
        on measured.snapshot_date = scored_purchasers.snapshot_date
            and measured.customer_id = scored_purchasers.customer_id
    left join rfm_segment_grid
        on scored_purchasers.recency_score = rfm_segment_grid.recency_score
            and scored_purchasers.frequency_score = rfm_segment_grid.frequency_score
    left join rfm_segments
        on rfm_segment_grid.rfm_segment_key = rfm_segments.rfm_segment_key

)

select * from final
