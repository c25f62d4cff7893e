{#-
    Do the segments separate who buys next? The pipeline refitted as of the cutoff (as_of_date -
    prediction_horizon_days, only lines before it) against what its customers did from the
    cutoff up to as_of_date. One row per persona (grouping persona: the personas of the cutoff's
    own fit, int_backtest_segments) and one per classic RFM segment (grouping rfm_segment: the
    cutoff's scores), over the customers with a purchase before the cutoff: how many bought
    again, their next-period revenue, and the lift of the repeat rate over the base rate. When
    the build has no backtest (int_backtest_status), one row says why.

    Does the backtest bear the name out? A persona whose seed row expects its customers to come
    back more often than the base rate (expected_repeat = above_base_rate: high_value, loyal,
    promising) or less often (below_base_rate: at_risk, big_spender_lapsed, hibernating, lost)
    is contradicted when its repeat rate lies on the other side of the base rate by more than
    sampling error: a z-score (repeat_rate - base_rate) / sqrt(base_rate * (1 - base_rate) /
    customers) beyond 1.96 the wrong way (two-sided 95%, as the calibration's sampling error).
    NULL for the classic segments, the fallbacks and the personas that expect neither.
-#}

with

status as (

    select * from {{ ref('int_backtest_status') }}

),

segments as (

    select * from {{ ref('int_backtest_segments') }}

),

persona_expectations as (

    select
        persona_key,
        case
            when expected_repeat in ('above_base_rate', 'below_base_rate') then expected_repeat
        end as expected_repeat
    from {{ ref('cluster_personas') }}

),

cutoff_customers as (

    select * from {{ ref('int_customer_purchase_snapshots') }}
    where snapshot_role = 'backtest_cutoff'
        and has_purchase

),

grouped_customers as (

    select
        'persona' as grouping,
        segments.persona_key as segment_key,
        cutoff_customers.has_next_period_purchase,
        cutoff_customers.next_period_revenue
    from cutoff_customers
    inner join segments
        on cutoff_customers.customer_id = segments.customer_id

    union all

    select
        'rfm_segment' as grouping,
        cutoff_customers.rfm_segment_key as segment_key,
        cutoff_customers.has_next_period_purchase,
        cutoff_customers.next_period_revenue
    from cutoff_customers
    where exists (select 1 from segments)

),

groups as (

    select
        grouping,
        segment_key,
        count(*) as customers,
        sum(case when has_next_period_purchase then 1 else 0 end) as repeat_customers,
        sum(next_period_revenue) as next_period_revenue

    from grouped_customers
    group by grouping, segment_key

),

base as (

    select
        grouping,
        cast(sum(repeat_customers) as {{ double_type() }}) / sum(customers) as base_rate
    from groups
    group by grouping

),

computed as (

    select
        groups.grouping,
        groups.segment_key,
        groups.customers,
        groups.repeat_customers,
        cast(groups.repeat_customers as {{ double_type() }}) / groups.customers as repeat_rate,
        groups.next_period_revenue,
        cast(groups.next_period_revenue as {{ double_type() }}) / groups.customers
            as revenue_per_customer,
        base.base_rate,
        persona_expectations.expected_repeat,
        (cast(groups.repeat_customers as {{ double_type() }}) / groups.customers - base.base_rate)
        / nullif(sqrt(base.base_rate * (1 - base.base_rate) / groups.customers), 0)
            as repeat_rate_z_score

    from groups
    inner join base
        on groups.grouping = base.grouping
    left join persona_expectations
        on groups.grouping = 'persona'
            and groups.segment_key = persona_expectations.persona_key

),

final as (

    select
        {{ dbt.concat(["coalesce(computed.grouping, 'not_computed')", "'|'",
                       "coalesce(computed.segment_key, '')"]) }} as backtest_segment_id,
        cast(computed.grouping as {{ string_type() }}) as grouping,
        cast(computed.segment_key as {{ string_type() }}) as segment_key,
        cast(computed.customers as bigint) as customers,
        cast(computed.repeat_customers as bigint) as repeat_customers,
        cast(computed.repeat_rate as {{ double_type() }}) as repeat_rate,
        cast(computed.next_period_revenue as numeric(18, 2)) as next_period_revenue,
        cast(computed.revenue_per_customer as {{ double_type() }}) as revenue_per_customer,
        cast(computed.base_rate as {{ double_type() }}) as base_rate,
        cast(computed.repeat_rate / nullif(computed.base_rate, 0) as {{ double_type() }}) as lift,
        cast(computed.expected_repeat as {{ string_type() }}) as expected_repeat,
        cast(computed.repeat_rate_z_score as {{ double_type() }}) as repeat_rate_z_score,
        case
            when computed.expected_repeat = 'above_base_rate'
                then coalesce(computed.repeat_rate_z_score < -1.96, false)
            when computed.expected_repeat = 'below_base_rate'
                then coalesce(computed.repeat_rate_z_score > 1.96, false)
        end as is_name_contradicted,
        cast(status.horizon_days as integer) as horizon_days,
        status.is_computed,
        status.not_computed_reason,
        status.cutoff_date

    from status
    left join computed
        on status.is_computed

)

select * from final
