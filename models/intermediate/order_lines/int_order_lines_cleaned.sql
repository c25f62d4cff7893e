{#-
    Every raw line gets exactly one status. Exclusion rules are tried in the order of the
    order_line_outcomes seed and the first that matches names the reason.
-#}

{%- set line_columns = [
    "invoice_id", "stock_code", "description", "quantity",
    "invoiced_at", "unit_price", "customer_id", "country",
] -%}

with

order_lines as (

    select * from {{ ref('stg_online_retail__order_lines') }}

),

non_product_stock_codes as (

    select * from {{ ref('non_product_stock_codes') }}

),

{#-
    Duplicates. Only lines with a customer are looked at: lines without one are excluded as
    missing_customer before the duplicate rule is tried, so whether they are copies never
    matters. Grouping every line by its eight columns is the costly way (a hash table as large
    as the file: 27 s of 53 s at 50M lines); instead a 64-bit fingerprint of the eight columns
    finds the few lines that can be copies, and only those are compared column by column. Each
    CTE below reads staging afresh rather than through one shared CTE, which DuckDB would copy
    whole into memory.
-#}
customer_line_fingerprints as (

    select {{ row_fingerprint(line_columns) }} as line_fingerprint
    from {{ ref('stg_online_retail__order_lines') }}
    where customer_id is not null

),

repeated_fingerprints as (

    select line_fingerprint
    from customer_line_fingerprints
    group by line_fingerprint
    having count(*) > 1

),

possible_copies as (

    select
        raw_row_number,
        {{ line_columns | join(",\n        ") }}
    from {{ ref('stg_online_retail__order_lines') }}
    where customer_id is not null
        and {{ row_fingerprint(line_columns) }} in (
            select line_fingerprint from repeated_fingerprints
        )

),

numbered_copies as (

    -- Settled on the columns themselves (fingerprints can collide): the first line of each set
    -- of identical lines is copy 1. PARTITION BY puts NULLs together, so missing values count
    -- as equal.
    select
        raw_row_number,
        row_number() over (
            partition by {{ line_columns | join(", ") }}
            order by raw_row_number
        ) as copy_number
    from possible_copies

),

duplicate_lines as (

    select raw_row_number
    from numbered_copies
    where copy_number > 1

),

{#-
    Non-product codes, matched once per distinct stock code (a few thousand) rather than once
    per line.
-#}
stock_codes as (

    select distinct stock_code
    from {{ ref('stg_online_retail__order_lines') }}

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

non_product_codes_found as (

    select stock_codes.stock_code
    from stock_codes
    where upper(stock_codes.stock_code) in (
            select stock_code_upper from exact_non_product_codes
        )
        or exists (
            select 1
            from prefix_non_product_codes
            -- A plain comparison of the first characters, not LIKE: `_` in gift_0001 would
            -- be a LIKE wildcard and match GIFTX0001 too.
            where left(
                upper(stock_codes.stock_code),
                {{ dbt.length('prefix_non_product_codes.stock_code_prefix_upper') }}
            ) = prefix_non_product_codes.stock_code_prefix_upper
        )

),

flagged as (

    select
        order_lines.*,
        duplicate_lines.raw_row_number is not null as is_duplicate,
        non_product_codes_found.stock_code is not null as is_non_product

    from order_lines
    left join duplicate_lines
        on order_lines.raw_row_number = duplicate_lines.raw_row_number
    left join non_product_codes_found
        on order_lines.stock_code = non_product_codes_found.stock_code

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
