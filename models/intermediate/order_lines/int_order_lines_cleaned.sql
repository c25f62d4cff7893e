{#-
    Every raw line gets exactly one status. Exclusion rules are tried in the order of the
    order_line_outcomes seed and the first that matches names the reason.
-#}

{%- set max_days_after_build = raw_orders_max_days_after_build_setting() -%}
{%- set max_days_outside_bulk = raw_orders_max_days_outside_date_bulk_setting() -%}
{%- set bulk_tail_share = raw_orders_date_bulk_tail_share_setting() -%}
{%- set date_type = api.Column.translate_type("date") -%}

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

{#
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
            select repeated_fingerprints.line_fingerprint from repeated_fingerprints
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
    {%- if not raw_orders_exclude_exact_duplicates_setting() %}
        and false  -- raw_orders_exclude_exact_duplicates: false keeps every copy
    {%- endif %}

),

{#
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
            select exact_non_product_codes.stock_code_upper from exact_non_product_codes
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

{#
    Impossible dates. The bulk of the data's dates runs from the first date by which the share
    raw_orders_date_bulk_tail_share of the lines has been seen to the first date by which all
    but that share has: percentiles of the lines' dates, read off the count of lines per date
    (a few hundred rows) rather than sorted over every line. A line dated more than
    raw_orders_max_days_outside_date_bulk days outside the bulk, or more than
    raw_orders_max_days_after_build days after the day the build started, is invalid_date.
-#}
{% if max_days_outside_bulk is not none -%}
lines_per_date as (

    select
        cast(invoiced_at as {{ date_type }}) as invoice_date,
        count(*) as line_count
    from {{ ref('stg_online_retail__order_lines') }}
    group by cast(invoiced_at as {{ date_type }})

),

cumulative_lines_per_date as (

    select
        invoice_date,
        sum(line_count) over (
            order by invoice_date rows between unbounded preceding and current row
        ) as lines_up_to_date,
        sum(line_count) over () as line_total
    from lines_per_date

),

date_bulk as (

    select
        min(
            case
                when lines_up_to_date >= {{ bulk_tail_share }} * line_total then invoice_date
            end
        ) as bulk_first_date,
        min(
            case
                when lines_up_to_date >= (1 - {{ bulk_tail_share }}) * line_total
                    then invoice_date
            end
        ) as bulk_last_date
    from cumulative_lines_per_date

),

{% endif -%}
valid_invoice_dates as (

    select
        {% if max_days_outside_bulk is not none -%}
        cast(
            {{ dbt.dateadd('day', -max_days_outside_bulk, 'bulk_first_date') }} as {{ date_type }}
        ) as first_valid_date,
        cast(
            {{ dbt.dateadd('day', max_days_outside_bulk, 'bulk_last_date') }} as {{ date_type }}
        ) as last_valid_date_in_data,
        {%- else -%}
        cast(null as {{ date_type }}) as first_valid_date,
        cast(null as {{ date_type }}) as last_valid_date_in_data,
        {%- endif %}
        {% if max_days_after_build is not none -%}
        cast('{{ (run_started_at + modules.datetime.timedelta(days=max_days_after_build))
            .strftime("%Y-%m-%d") }}' as {{ date_type }})
        {%- else -%}
        cast(null as {{ date_type }})
        {%- endif %} as last_valid_date_by_clock
    {%- if max_days_outside_bulk is not none %}
    from date_bulk
    {%- endif %}

),

flagged as (

    select
        order_lines.*,
        duplicate_lines.raw_row_number is not null as is_duplicate,
        non_product_codes_found.stock_code is not null as is_non_product,
        coalesce(
            cast(order_lines.invoiced_at as {{ date_type }})
            < valid_invoice_dates.first_valid_date
            or cast(order_lines.invoiced_at as {{ date_type }})
            > valid_invoice_dates.last_valid_date_in_data
            or cast(order_lines.invoiced_at as {{ date_type }})
            > valid_invoice_dates.last_valid_date_by_clock,
            false
        ) as is_invalid_date

    from order_lines
    cross join valid_invoice_dates
    left join duplicate_lines
        on order_lines.raw_row_number = duplicate_lines.raw_row_number
    left join non_product_codes_found
        on order_lines.stock_code = non_product_codes_found.stock_code

),

classified as (

    select
        *,
        case
            -- Values that cannot be right come first: their amount is not even computed.
            when has_implausible_value then 'implausible_value'
            when is_invalid_date then 'invalid_date'
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
        is_invalid_date,

        invoiced_at

    from classified

)

select * from final
