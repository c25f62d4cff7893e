with

source as (

    select * from {{ source('online_retail', 'order_lines') }}

),

trimmed as (

    select
        raw_row_number,
        {{ blank_to_null(adapter.quote('InvoiceNo')) }} as raw_invoice_no,
        {{ blank_to_null(adapter.quote('StockCode')) }} as raw_stock_code,
        {{ blank_to_null(adapter.quote('Description')) }} as raw_description,
        {{ blank_to_null(adapter.quote('Quantity')) }} as raw_quantity,
        {{ blank_to_null(adapter.quote('InvoiceDate')) }} as raw_invoice_date,
        {{ blank_to_null(adapter.quote('UnitPrice')) }} as raw_unit_price,
        {{ blank_to_null(adapter.quote('CustomerID')) }} as raw_customer_id,
        {{ blank_to_null(adapter.quote('Country')) }} as raw_country

    from source

),

blank_lines as (

    select
        *,
        coalesce(
            raw_invoice_no, raw_stock_code, raw_description, raw_quantity,
            raw_invoice_date, raw_unit_price, raw_customer_id, raw_country) is null
            as is_blank_line

    from trimmed

),

numbers as (

    select
        *,
        {{ exact_customer_id('raw_customer_id') }} as parsed_customer_id,
        {{ exact_whole_number('raw_quantity') }} as parsed_quantity,
        {{ unit_price_at_four_decimals('raw_unit_price') }} as parsed_unit_price,
        {{ parse_timestamp('raw_invoice_date', raw_orders_timestamp_formats_setting()) }}
            as parsed_invoiced_at_any_year

    from blank_lines

),

dated as (

    -- A year before 1000 is a two-digit year read by %Y (12/1/10 is the year 10), never a
    -- real order: refused, so that it cannot shift every recency by two millennia.
    select
        *,
        case
            when parsed_invoiced_at_any_year
                >= cast('1000-01-01 00:00:00' as {{ dbt.type_timestamp() }})
                then parsed_invoiced_at_any_year
        end as parsed_invoiced_at

    from numbers

),

checked as (

    select
        raw_row_number,
        upper({{ checked_raw_value('raw_invoice_no', 'raw_invoice_no', 'InvoiceNo', '',
            required=true) }}) as invoice_id,
        {{ checked_raw_value('raw_stock_code', 'raw_stock_code', 'StockCode', '',
            required=true) }} as stock_code,
        {{ checked_raw_value('parsed_customer_id', 'raw_customer_id', 'CustomerID', none,
            rule_sql=customer_id_rule('raw_customer_id')) }} as customer_id,

        raw_description as description,
        raw_country as country,

        {{ checked_raw_value('parsed_quantity', 'raw_quantity', 'Quantity', none,
            rule_sql=whole_number_rule('raw_quantity'), required=true) }} as quantity,
        {{ checked_raw_value('parsed_unit_price', 'raw_unit_price', 'UnitPrice', none,
            rule_sql=unit_price_rule('raw_unit_price'), required=true) }} as unit_price,

        {{ checked_raw_value('parsed_invoiced_at', 'raw_invoice_date', 'InvoiceDate', none,
            rule_sql=invoice_date_rule('parsed_invoiced_at_any_year'), required=true) }}
            as invoiced_at

    from dated

),

plausible as (

    select
        *,
        -- Compared without abs(): abs of the smallest bigint overflows.
        quantity > {{ raw_orders_max_abs_quantity_setting() }}
        or quantity < -{{ raw_orders_max_abs_quantity_setting() }}
        or unit_price > {{ raw_orders_max_abs_unit_price_setting() }}
        or unit_price < -{{ raw_orders_max_abs_unit_price_setting() }}
            as has_implausible_value

    from checked

),

final as (

    select
        raw_row_number,
        invoice_id,
        stock_code,
        customer_id,

        description,
        country,

        quantity,
        unit_price,
        -- Not computed for an implausible line: it is no meaningful amount, and may not fit.
        case
            when not has_implausible_value
                then cast(round(quantity * unit_price, 2) as numeric(18, 2))
        end as line_amount,

        -- C and A invoices are a letter then the number (C536379, A563185): a store code such as
        -- CHI-536365 or ATL-536365 in front of the number marks neither.
        (
            invoice_id like 'C%' and substring(invoice_id, 2, 1) between '0' and '9'
        ) or quantity < 0 as is_cancellation,
        invoice_id like 'A%' and substring(invoice_id, 2, 1) between '0' and '9'
            as is_adjustment,
        has_implausible_value,

        invoiced_at

    from plausible

)

select * from final
