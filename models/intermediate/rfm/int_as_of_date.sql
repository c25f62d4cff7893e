{#-
    One row: the date the RFM is computed for. The var as_of_date (checked to be a YYYY-MM-DD
    date), or by default the day after the date of the last kept line. A date before which no
    kept purchase line exists stops the build: an RFM without a single customer is no result.
    The message carries where the lines went, because a build that stops here publishes no
    audit mart to look at.
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
            and as_of.as_of_date > customer_invoices.invoice_date
    group by as_of.as_of_date

),

lines_by_outcome as (

    select
        outcome,
        count(*) as line_count
    from {{ ref('int_order_lines_cleaned') }}
    group by outcome

),

audit_figures as (

    select
        {{ dbt.safe_cast('sum(line_count)', string_type()) }} as raw_line_count,
        {{ dbt.listagg(
            dbt.concat(['outcome', "' '", dbt.safe_cast('line_count', string_type())]),
            "', '",
            'order by line_count desc, outcome',
        ) }} as lines_by_outcome
    from lines_by_outcome

),

final as (

    select
        case
            when purchases_before_as_of.purchase_invoice_count = 0 then {{ raise_error(dbt.concat([
                "'No kept purchase line before as_of_date '",
                "coalesce(" ~ dbt.safe_cast('purchases_before_as_of.as_of_date', string_type())
                    ~ ", '(no kept line at all)')",
                string_literal(" in raw orders file " ~ raw_orders_path_setting()
                    ~ ": the RFM would have no customer. Where its "),
                "audit_figures.raw_line_count",
                string_literal(" lines went (lines per outcome, as fct_order_line_audit counts "
                    ~ "them): "),
                "audit_figures.lines_by_outcome",
                string_literal(". Only guests? Only cancellations? Or set the var as_of_date "
                    ~ "later."),
            ])) }}
            else purchases_before_as_of.as_of_date
        end as as_of_date

    from purchases_before_as_of
    cross join audit_figures

)

select * from final
