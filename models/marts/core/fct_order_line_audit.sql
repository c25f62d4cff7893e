with

order_line_outcomes as (

    select * from {{ ref('order_line_outcomes') }}

),

order_lines as (

    select * from {{ ref('int_order_lines_cleaned') }}

),

lines_by_outcome as (

    select
        outcome,
        count(*) as line_count,
        sum(quantity) as quantity,
        sum(line_amount) as revenue

    from order_lines
    group by outcome

),

all_lines as (

    select count(*) as line_count from order_lines

),

final as (

    select
        order_line_outcomes.outcome,
        order_line_outcomes.line_status,
        order_line_outcomes.exclusion_reason,
        order_line_outcomes.description as outcome_description,

        order_line_outcomes.rule_order,
        coalesce(lines_by_outcome.line_count, 0) as line_count,
        -- In floating point on every engine: Spark would divide decimals and keep 6 places.
        cast(coalesce(lines_by_outcome.line_count, 0) as {{ double_type() }})
        / nullif(all_lines.line_count, 0) as line_share,
        -- bigint on every engine (DuckDB's sum of bigints is a 128-bit hugeint).
        cast(coalesce(lines_by_outcome.quantity, 0) as bigint) as quantity,
        cast(coalesce(lines_by_outcome.revenue, 0) as numeric(18, 2)) as revenue,

        order_line_outcomes.line_status = 'kept' as is_kept

    from order_line_outcomes
    cross join all_lines
    left join lines_by_outcome
        on order_line_outcomes.outcome = lines_by_outcome.outcome

)

select * from final
