{#-
    One row per customer invoice of kept lines invoiced before as_of_date. as_of_date is the var
    of that name, or by default the day after the date of the last kept line.
-#}

with

kept_order_lines as (

    -- Only the columns used below: this CTE is read three times, so the warehouse may hold it
    -- in memory (DuckDB does), and at 100M lines every extra column is gigabytes.
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

as_of as (

    {% if as_of_date_literal() is not none -%}
    select {{ as_of_date_literal() }} as as_of_date
    {%- else -%}
    select
        cast({{ dbt.dateadd('day', 1, 'max(cast(invoiced_at as date))') }} as date) as as_of_date
    from kept_order_lines
    {%- endif %}

),

purchases_before_as_of as (

    select
        as_of.as_of_date,
        count(kept_order_lines.invoiced_at) as purchase_line_count

    from as_of
    left join kept_order_lines
        on kept_order_lines.is_purchase
        and kept_order_lines.invoiced_at < as_of.as_of_date
    group by as_of.as_of_date

),

checked_as_of as (

    -- An RFM without a single purchase is not a result: stop with the reason instead.
    select
        case
            when purchase_line_count = 0 then {{ raise_error(dbt.concat([
                "'No kept purchase line before as_of_date '",
                "coalesce(" ~ dbt.safe_cast('as_of_date', string_type())
                    ~ ", '(no kept line at all)')",
                string_literal(" in raw orders file " ~ var('raw_orders_path')
                    ~ ": the RFM would have no customer. fct_order_line_audit shows where the "
                    ~ "lines went (only guests? only cancellations?); or set the var as_of_date "
                    ~ "later."),
            ])) }}
            else as_of_date
        end as as_of_date

    from purchases_before_as_of

),

lines_before_as_of as (

    select
        kept_order_lines.*,
        checked_as_of.as_of_date

    from kept_order_lines
    cross join checked_as_of
    where kept_order_lines.invoiced_at < checked_as_of.as_of_date

),

invoices as (

    select
        customer_id,
        invoice_id,
        min(country) as country,

        count(*) as line_count,
        sum(case when is_purchase then line_amount else 0 end) as purchase_amount,
        -sum(case when is_return then line_amount else 0 end) as returned_amount,
        sum(line_amount) as net_amount,

        max(case when is_purchase then 1 else 0 end) = 1 as is_purchase_invoice,

        min(as_of_date) as as_of_date,
        min(invoiced_at) as invoiced_at

    from lines_before_as_of
    group by customer_id, invoice_id

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
        cast(invoiced_at as date) as invoice_date,
        as_of_date,
        invoiced_at

    from invoices

)

select * from final
