{#-
    One row per customer, invoice and invoice date of the kept order lines, over the whole file.
    An invoice whose lines fall on two dates (one that spans midnight) has a row per date, so a
    snapshot date cuts it exactly as it cuts lines: only lines invoiced before the snapshot date
    count (int_customer_rfm_snapshots).
-#}

with

kept_order_lines as (

    -- Only the columns used below: at 100M lines every extra column is gigabytes.
    select
        customer_id,
        invoice_id,
        country,
        invoiced_at,
        line_amount,
        is_purchase,
        is_return
    from {{ ref('int_order_lines_cleaned') }}
    where is_kept

),

invoice_days as (

    select
        customer_id,
        invoice_id,
        cast(invoiced_at as date) as invoice_date,
        min(country) as country,

        count(*) as line_count,
        sum(case when is_purchase then line_amount else 0 end) as purchase_amount,
        -sum(case when is_return then line_amount else 0 end) as returned_amount,
        sum(line_amount) as net_amount,

        max(case when is_purchase then 1 else 0 end) = 1 as is_purchase_invoice,

        min(invoiced_at) as invoiced_at

    from kept_order_lines
    group by customer_id, invoice_id, cast(invoiced_at as date)

),

final as (

    select
        customer_id,
        invoice_id,
        country,
        line_count,
        cast(purchase_amount as numeric(18, 2)) as purchase_amount,
        cast(returned_amount as numeric(18, 2)) as returned_amount,
        cast(net_amount as numeric(18, 2)) as net_amount,
        is_purchase_invoice,
        invoice_date,
        invoiced_at

    from invoice_days

)

select * from final
