{#-
    One row: the date the RFM is computed for. The var as_of_date (checked to be a YYYY-MM-DD
    date), or by default the day after the date of the last kept line. A date before which no
    kept purchase line exists stops the build: an RFM without a single customer is no result.
-#}

with

customer_invoices as (

    select * from {{ ref('int_customer_invoices') }}

),

as_of as (

    {% if as_of_date_literal() is not none -%}
    select {{ as_of_date_literal() }} as as_of_date
    {%- else -%}
    select
        cast({{ dbt.dateadd('day', 1, 'max(invoice_date)') }} as date) as as_of_date
    from customer_invoices
    {%- endif %}

),

purchases_before_as_of as (

    select
        as_of.as_of_date,
        count(customer_invoices.invoice_id) as purchase_invoice_count

    from as_of
    left join customer_invoices
        on customer_invoices.is_purchase_invoice
        and customer_invoices.invoice_date < as_of.as_of_date
    group by as_of.as_of_date

),

final as (

    select
        case
            when purchase_invoice_count = 0 then {{ raise_error(dbt.concat([
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

)

select * from final
