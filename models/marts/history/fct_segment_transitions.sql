{#-
    Who moved where between consecutive snapshot dates of the history, and what is at stake:
    for each pair (from_snapshot_date, to_snapshot_date) and each (from, to) pair of segments,
    the customers, their net revenue in the 365 days before the earlier date (revenue_at_stake)
    and between the two dates (revenue_between_snapshots). `grouping` = persona (the personas
    of fct_customer_segment_history) or rfm_segment (the classic segments on the scale of
    as_of_date; `no_purchase` for customers with only returns so far). Customers who had no
    kept line before the earlier date come from `not_yet_customer`. Every customer of the later
    date is counted exactly once, so every customer of the earlier date is too (customers only
    accumulate): a dbt test checks both.
-#}

{%- set stake_days = 365 -%}

with

segment_history as (

    select * from {{ ref('fct_customer_segment_history') }}

),

customer_invoices as (

    select * from {{ ref('int_customer_invoices') }}

),

snapshot_dates as (

    select distinct snapshot_date from segment_history

),

snapshot_pairs as (

    select *
    from (
        select
            lag(snapshot_date) over (order by snapshot_date) as from_snapshot_date,
            snapshot_date as to_snapshot_date
        from snapshot_dates
    ) as consecutive
    where from_snapshot_date is not null

),

customer_moves as (

    select
        snapshot_pairs.from_snapshot_date,
        snapshot_pairs.to_snapshot_date,
        later.customer_id,
        coalesce(earlier.persona_key, 'not_yet_customer') as from_persona,
        later.persona_key as to_persona,
        case
            when earlier.customer_id is null then 'not_yet_customer'
            else coalesce(earlier.rfm_segment_key, 'no_purchase')
        end as from_rfm_segment,
        coalesce(later.rfm_segment_key, 'no_purchase') as to_rfm_segment

    from snapshot_pairs
    inner join segment_history as later
        on snapshot_pairs.to_snapshot_date = later.snapshot_date
    left join segment_history as earlier
        on snapshot_pairs.from_snapshot_date = earlier.snapshot_date
            and later.customer_id = earlier.customer_id

),

customer_revenue as (

    select
        snapshot_pairs.from_snapshot_date,
        customer_invoices.customer_id,
        sum(
            case
                when customer_invoices.invoice_date < snapshot_pairs.from_snapshot_date
                    then customer_invoices.net_amount
                else 0
            end
        ) as revenue_at_stake,
        sum(
            case
                when customer_invoices.invoice_date >= snapshot_pairs.from_snapshot_date
                    then customer_invoices.net_amount
                else 0
            end
        ) as revenue_between_snapshots

    from snapshot_pairs
    inner join customer_invoices
        on customer_invoices.invoice_date
            >= {{ dbt.dateadd('day', -stake_days, 'snapshot_pairs.from_snapshot_date') }}
            and snapshot_pairs.to_snapshot_date > customer_invoices.invoice_date
    group by snapshot_pairs.from_snapshot_date, customer_invoices.customer_id

),

valued_moves as (

    select
        customer_moves.*,
        coalesce(customer_revenue.revenue_at_stake, 0) as revenue_at_stake,
        coalesce(customer_revenue.revenue_between_snapshots, 0) as revenue_between_snapshots

    from customer_moves
    left join customer_revenue
        on customer_moves.from_snapshot_date = customer_revenue.from_snapshot_date
            and customer_moves.customer_id = customer_revenue.customer_id

),

{%- set groupings = [
    {"name": "persona", "from": "from_persona", "to": "to_persona"},
    {"name": "rfm_segment", "from": "from_rfm_segment", "to": "to_rfm_segment"},
] %}

transitions as (

    {%- for grouping in groupings %}
    select
        '{{ grouping.name }}' as grouping,
        from_snapshot_date,
        to_snapshot_date,
        {{ grouping.from }} as from_persona,
        {{ grouping.to }} as to_persona,
        count(*) as customers,
        sum(revenue_at_stake) as revenue_at_stake,
        sum(revenue_between_snapshots) as revenue_between_snapshots

    from valued_moves
    group by from_snapshot_date, to_snapshot_date, {{ grouping.from }}, {{ grouping.to }}
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

final as (

    select
        {{ dbt.concat([
            'grouping', "'|'",
            dbt.safe_cast('from_snapshot_date', string_type()), "'|'",
            'from_persona', "'|'", 'to_persona',
        ]) }} as transition_id,
        cast(grouping as {{ string_type() }}) as grouping,
        from_persona,
        to_persona,
        cast(customers as bigint) as customers,
        cast(revenue_at_stake as numeric(18, 2)) as revenue_at_stake,
        cast(revenue_between_snapshots as numeric(18, 2)) as revenue_between_snapshots,
        from_persona != to_persona as is_move,
        from_snapshot_date,
        to_snapshot_date

    from transitions

)

select * from final
