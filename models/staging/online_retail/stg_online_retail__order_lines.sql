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

numbers as (

    select
        *,
        {{ dbt.safe_cast('raw_customer_id', double_type()) }} as customer_id_number,
        {{ dbt.safe_cast('raw_quantity', double_type()) }} as quantity_number,
        {{ dbt.safe_cast('raw_unit_price', 'numeric(18, 4)') }} as parsed_unit_price,
        {{ parse_timestamp('raw_invoice_date', var('raw_orders_timestamp_formats')) }}
            as parsed_invoiced_at

    from trimmed

),

parsed as (

    select
        *,
        {{ whole_number('customer_id_number') }} as parsed_customer_id,
        {{ whole_number('quantity_number') }} as parsed_quantity

    from numbers

),

checked as (

    select
        raw_row_number,
        upper(raw_invoice_no) as invoice_id,
        raw_stock_code as stock_code,
        {{ checked_raw_value('parsed_customer_id', 'raw_customer_id',
            'CustomerID', 'must be a whole number or blank') }} as customer_id,

        raw_description as description,
        raw_country as country,

        {{ checked_raw_value('parsed_quantity', 'raw_quantity',
            'Quantity', 'must be a whole number') }} as quantity,
        {{ checked_raw_value('parsed_unit_price', 'raw_unit_price',
            'UnitPrice', 'must be a number with a dot as decimal separator') }} as unit_price,

        {{ checked_raw_value('parsed_invoiced_at', 'raw_invoice_date', 'InvoiceDate',
            'must be a date in one of the layouts of the var raw_orders_timestamp_formats ('
                ~ (var('raw_orders_timestamp_formats') | join(' | ')) ~ ')'
        ) }} as invoiced_at

    from parsed

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
        cast(round(quantity * unit_price, 2) as numeric(18, 2)) as line_amount,

        invoice_id like 'C%' or quantity < 0 as is_cancellation,
        invoice_id like 'A%' as is_adjustment,

        invoiced_at

    from checked

)

select * from final
