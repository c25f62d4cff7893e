{#-
    Who changed persona in the last period of the history: one row per customer whose persona
    on the last snapshot date (as_of_date) differs from the one before (including customers who
    were not yet customers then), with their net revenue in the 365 days before the earlier date
    (value at stake) and whether the move is a downgrade: to a persona of larger value_rank
    (seed cluster_personas: 1 = most valuable; a fallback cluster ranks like the first persona
    whose conditions it meets). A move from or to a persona without a rank, or a first purchase,
    is not a downgrade. The audiences of downgrade moves are written from this table. Empty when
    the history has no snapshot before as_of_date (history_months: 0).
-#}

{%- set stake_days = 365 -%}

with

segment_history as (

    select * from {{ ref('fct_customer_segment_history') }}

),

persona_catalog as (

    select * from {{ ref('int_persona_catalog') }}

),

customer_invoices as (

    select * from {{ ref('int_customer_invoices') }}

),

last_two_dates as (

    select
        max(snapshot_date) as to_snapshot_date,
        max(case when not is_as_of_date then snapshot_date end) as from_snapshot_date
    from segment_history

),

moves as (

    select
        later.customer_id,
        later.country,
        coalesce(earlier.persona_key, 'not_yet_customer') as from_persona,
        later.persona_key as to_persona,
        later.monetary,
        later.recency_days,
        last_two_dates.from_snapshot_date,
        last_two_dates.to_snapshot_date

    from last_two_dates
    inner join segment_history as later
        on last_two_dates.to_snapshot_date = later.snapshot_date
    left join segment_history as earlier
        on last_two_dates.from_snapshot_date = earlier.snapshot_date
            and later.customer_id = earlier.customer_id
    where
        coalesce(earlier.persona_key, 'not_yet_customer') != later.persona_key
        -- Without an earlier snapshot (history_months: 0, or an as_of_date in the data's first
        -- month) there is no period and no move: the mart is empty.
        and last_two_dates.from_snapshot_date is not null

),

value_at_stake as (

    select
        customer_invoices.customer_id,
        sum(customer_invoices.net_amount) as revenue_at_stake

    from customer_invoices
    cross join last_two_dates
    where customer_invoices.invoice_date < last_two_dates.from_snapshot_date
        and customer_invoices.invoice_date
        >= {{ dbt.dateadd('day', -stake_days, 'last_two_dates.from_snapshot_date') }}
    group by customer_invoices.customer_id

),

final as (

    select
        moves.customer_id,
        moves.country,
        moves.from_persona,
        moves.to_persona,
        cast(coalesce(value_at_stake.revenue_at_stake, 0) as numeric(18, 2))
            as revenue_at_stake,
        moves.monetary,
        moves.recency_days,
        cast(from_catalog.value_rank as integer) as from_value_rank,
        cast(to_catalog.value_rank as integer) as to_value_rank,
        coalesce(to_catalog.value_rank > from_catalog.value_rank, false) as is_downgrade,
        moves.from_snapshot_date,
        moves.to_snapshot_date

    from moves
    left join value_at_stake
        on moves.customer_id = value_at_stake.customer_id
    left join persona_catalog as from_catalog
        on moves.from_persona = from_catalog.persona_key
    left join persona_catalog as to_catalog
        on moves.to_persona = to_catalog.persona_key

)

select * from final
