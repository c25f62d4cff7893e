-- Nobody vanishes: the net revenue of dim_customer_segments (every customer with a kept line
-- before as_of_date, refunded and no_purchase customers included) is the kept revenue of the
-- cleaned lines invoiced before as_of_date, to the penny. Returns a row on mismatch.
with

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

kept_before_as_of as (

    select coalesce(sum(lines.line_amount), 0) as revenue
    from {{ ref('int_order_lines_cleaned') }} as lines
    cross join as_of
    where lines.is_kept
        and lines.invoiced_at < as_of.as_of_date

),

segments as (

    select
        coalesce(sum(monetary), 0) as revenue,
        count(*) as customers
    from {{ ref('dim_customer_segments') }}

),

kept_customers as (

    select count(distinct lines.customer_id) as customers
    from {{ ref('int_order_lines_cleaned') }} as lines
    cross join as_of
    where lines.is_kept
        and lines.invoiced_at < as_of.as_of_date

)

select
    kept_before_as_of.revenue as kept_revenue,
    segments.revenue as segments_revenue,
    kept_customers.customers as kept_customers,
    segments.customers as segment_customers
from kept_before_as_of
cross join segments
cross join kept_customers
where kept_before_as_of.revenue != segments.revenue
    or kept_customers.customers != segments.customers
