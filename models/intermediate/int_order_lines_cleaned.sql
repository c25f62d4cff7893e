{#-
    Every raw line gets exactly one status. Exclusion rules are tried in the order of the
    order_line_outcomes seed and the first that matches names the reason.
-#}

with

order_lines as (

    select * from {{ ref('stg_online_retail__order_lines') }}

),

non_product_stock_codes as (

    select * from {{ ref('non_product_stock_codes') }}

),

exact_non_product_codes as (

    select distinct upper(stock_code) as stock_code_upper
    from non_product_stock_codes
    where match_type = 'exact'

),

prefix_non_product_codes as (

    select distinct upper(stock_code) as stock_code_prefix_upper
    from non_product_stock_codes
    where match_type = 'prefix'

),

first_copies as (

    -- The first of each set of identical lines. Lines without a customer are left out: they are
    -- excluded as missing_customer before the duplicate rule is tried, so whether they are copies
    -- never matters (and a hash aggregate over three quarters of the lines is cheaper than a
    -- window over all of them). GROUP BY puts NULLs together, so missing values count as equal.
    select min(raw_row_number) as raw_row_number
    from order_lines
    where customer_id is not null
    group by
        invoice_id,
        stock_code,
        description,
        quantity,
        invoiced_at,
        unit_price,
        customer_id,
        country

),

flagged as (

    select
        order_lines.*,
        order_lines.customer_id is not null
            and first_copies.raw_row_number is null as is_duplicate,
        exact_non_product_codes.stock_code_upper is not null
            or exists (
                select 1
                from prefix_non_product_codes
                where upper(order_lines.stock_code) like {{ dbt.concat([
                    'prefix_non_product_codes.stock_code_prefix_upper', "'%'"]) }}
            ) as is_non_product

    from order_lines
    left join first_copies
        on order_lines.raw_row_number = first_copies.raw_row_number
    left join exact_non_product_codes
        on upper(order_lines.stock_code) = exact_non_product_codes.stock_code_upper

),

classified as (

    select
        *,
        case
            when customer_id is null then 'missing_customer'
            when is_duplicate then 'duplicate'
            when is_adjustment then 'adjustment'
            when is_non_product then 'non_product'
            when unit_price <= 0 then 'invalid_price'
            when quantity = 0 then 'zero_quantity'
        end as exclusion_reason

    from flagged

),

final as (

    select
        raw_row_number,
        invoice_id,
        stock_code,
        customer_id,

        description,
        country,
        case when exclusion_reason is null then 'kept' else 'excluded' end as line_status,
        exclusion_reason,
        case
            when exclusion_reason is not null then exclusion_reason
            when is_cancellation then 'return'
            else 'purchase'
        end as outcome,

        quantity,
        unit_price,
        line_amount,

        exclusion_reason is null as is_kept,
        exclusion_reason is null and not is_cancellation as is_purchase,
        exclusion_reason is null and is_cancellation as is_return,
        is_cancellation,
        is_adjustment,
        is_duplicate,
        is_non_product,

        invoiced_at

    from classified

)

select * from final
