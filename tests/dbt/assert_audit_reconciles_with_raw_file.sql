-- Raw lines = kept + excluded, to the line and to the penny: the audit mart accounts for every
-- line of the raw source and for every penny of staging's line amounts. Returns a row on mismatch.
with

raw_lines as (

    select count(*) as line_count
    from {{ source('online_retail', 'order_lines') }}

),

staged_lines as (

    select
        count(*) as line_count,
        coalesce(sum(line_amount), 0) as revenue
    from {{ ref('stg_online_retail__order_lines') }}

),

audit as (

    select
        sum(line_count) as line_count,
        sum(case when is_kept then line_count else 0 end)
        + sum(case when not is_kept then line_count else 0 end) as kept_plus_excluded_lines,
        sum(revenue) as revenue,
        sum(case when is_kept then revenue else 0 end)
        + sum(case when not is_kept then revenue else 0 end) as kept_plus_excluded_revenue
    from {{ ref('fct_order_line_audit') }}

)

select
    raw_lines.line_count as raw_line_count,
    staged_lines.line_count as staged_line_count,
    audit.kept_plus_excluded_lines,
    staged_lines.revenue as staged_revenue,
    audit.kept_plus_excluded_revenue
from raw_lines
cross join staged_lines
cross join audit
where raw_lines.line_count != staged_lines.line_count
    or raw_lines.line_count != audit.line_count
    or raw_lines.line_count != audit.kept_plus_excluded_lines
    or staged_lines.revenue != audit.revenue
    or staged_lines.revenue != audit.kept_plus_excluded_revenue
