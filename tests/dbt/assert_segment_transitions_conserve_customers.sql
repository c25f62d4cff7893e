-- Every customer of a snapshot date is counted exactly once in the transitions that start and in
-- those that end there, in each grouping: the "from" side of a pair (without not_yet_customer)
-- holds the customers of the earlier date, the "to" side those of the later date. Returns the
-- broken totals.
with

history_counts as (

    select
        snapshot_date,
        count(*) as customers
    from {{ ref('fct_customer_segment_history') }}
    group by snapshot_date

),

transitions as (

    select * from {{ ref('fct_segment_transitions') }}

),

from_side as (

    select
        grouping,
        from_snapshot_date as snapshot_date,
        sum(customers) as customers
    from transitions
    where from_persona != 'not_yet_customer'
    group by grouping, from_snapshot_date

),

to_side as (

    select
        grouping,
        to_snapshot_date as snapshot_date,
        sum(customers) as customers
    from transitions
    group by grouping, to_snapshot_date

),

pair_count as (

    select count(distinct from_snapshot_date) as pairs from transitions

),

sides as (

    select
        'from' as side,
        *
    from from_side
    union all
    select
        'to' as side,
        *
    from to_side

)

select
    sides.side,
    sides.grouping,
    sides.snapshot_date,
    sides.customers as counted,
    history_counts.customers as expected
from sides
left join history_counts
    on sides.snapshot_date = history_counts.snapshot_date
where history_counts.customers is null or sides.customers != history_counts.customers
union all
-- each grouping covers every pair of consecutive snapshot dates
select
    'pairs' as side,
    'all' as grouping,
    null as snapshot_date,
    pair_count.pairs as counted,
    (select count(*) - 1 from history_counts) as expected
from pair_count
where pair_count.pairs != (select count(*) - 1 from history_counts)
