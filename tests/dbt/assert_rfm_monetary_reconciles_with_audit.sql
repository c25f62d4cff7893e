-- Every penny of kept revenue in the audit mart is either in a customer's monetary or explained:
-- kept revenue = sum(monetary) + kept lines of customers without a purchase before as_of_date
--              + kept lines invoiced on or after as_of_date. Returns a row on mismatch.
with

audit as (

    select sum(revenue) as kept_revenue
    from {{ ref('fct_order_line_audit') }}
    where is_kept

),

rfm as (

    select
        coalesce(sum(monetary), 0) as monetary,
        max(as_of_date) as as_of_date
    from {{ ref('fct_customer_rfm') }}

),

kept_lines as (

    select * from {{ ref('int_order_lines_cleaned') }}
    where is_kept

),

outside_rfm as (

    select coalesce(sum(kept_lines.line_amount), 0) as revenue
    from kept_lines
    cross join rfm
    left join {{ ref('fct_customer_rfm') }} as customers
        on kept_lines.customer_id = customers.customer_id
    where customers.customer_id is null
        or kept_lines.invoiced_at >= rfm.as_of_date

)

select
    audit.kept_revenue,
    rfm.monetary,
    outside_rfm.revenue as revenue_outside_rfm
from audit
cross join rfm
cross join outside_rfm
where audit.kept_revenue != rfm.monetary + outside_rfm.revenue
