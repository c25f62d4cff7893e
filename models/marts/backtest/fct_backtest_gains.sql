{#-
    The cumulative-gains curve of each ranking of fct_backtest_summary: customers of the cutoff
    (with a purchase before it) sorted by the ranking, best first, and cut at every 5% of them;
    for each cut, the share of the customers contacted and the share of next-period buyers
    found among them. Random contact finds buyers in proportion (the diagonal); the further
    above it, the better the ranking. Customers tied at the cut count in proportion, so ties
    never favour a ranking. Without a backtest, one row says why.
-#}

{%- set steps = 20 -%}

with

status as (

    select * from {{ ref('int_backtest_status') }}

),

cutoff_customers as (

    select * from {{ ref('int_customer_purchase_snapshots') }}
    where snapshot_role = 'backtest_cutoff'
        and has_purchase

),

segments as (

    select * from {{ ref('int_backtest_segments') }}

),

probabilities as (

    select * from {{ ref('int_purchase_probabilities') }}
    where snapshot_role = 'backtest_cutoff'
        and validation = 'out_of_time'

),

scored as (

    select
        'next_purchase_probability' as ranking,
        probabilities.next_purchase_probability as score,
        cutoff_customers.has_next_period_purchase as is_positive
    from cutoff_customers
    inner join probabilities
        on cutoff_customers.customer_id = probabilities.customer_id

    union all

    select
        'rfm_score' as ranking,
        cast(recency_score + frequency_score + monetary_score as {{ double_type() }}) as score,
        has_next_period_purchase as is_positive
    from cutoff_customers
    where exists (select 1 from segments)

    union all

    select
        'persona' as ranking,
        segments.persona_score as score,
        cutoff_customers.has_next_period_purchase as is_positive
    from cutoff_customers
    inner join segments
        on cutoff_customers.customer_id = segments.customer_id

    union all

    select
        'recency_days' as ranking,
        -cast(recency_days as {{ double_type() }}) as score,
        has_next_period_purchase as is_positive
    from cutoff_customers
    where exists (select 1 from segments)

),

{# One row per ranking and score value: how many customers and buyers share it, and how many
    rank above it (a better score). -#}
score_values as (

    select
        ranking,
        score,
        count(*) as customers,
        sum(case when is_positive then 1 else 0 end) as positives

    from scored
    group by ranking, score

),

cumulated as (

    select
        ranking,
        customers,
        positives,
        sum(customers) over (
            partition by ranking
            order by score desc rows between unbounded preceding and current row
        ) - customers as customers_above,
        sum(positives) over (
            partition by ranking
            order by score desc rows between unbounded preceding and current row
        ) - positives as positives_above,
        sum(customers) over (partition by ranking) as total_customers,
        sum(positives) over (partition by ranking) as total_positives

    from score_values

),

cuts as (

    {%- for step in range(1, steps + 1) %}
    select
        {{ step }} as step,
        cast({{ step }} as {{ double_type() }}) / {{ steps }} as share_contacted
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

{# At a cut of n = share x total customers: the buyers above the score group that straddles n,
    plus that group's buyers in proportion to how much of it falls within the cut. The whole
    groups are counted in integers and at most one group straddles the cut, so no sum adds
    fractions: the result does not depend on the order in which an engine adds the rows. -#}
gains as (

    select
        cumulated.ranking,
        cuts.step,
        cuts.share_contacted,
        (
            cast(
                sum(
                    case
                        when cumulated.customers_above + cumulated.customers
                            <= cuts.share_contacted * cumulated.total_customers
                            then cumulated.positives
                        else 0
                    end
                ) as {{ double_type() }}
            )
            + sum(
                case
                    when cumulated.customers_above + cumulated.customers
                        > cuts.share_contacted * cumulated.total_customers
                        and cumulated.customers_above
                        < cuts.share_contacted * cumulated.total_customers
                        then cumulated.positives
                            * (
                                cuts.share_contacted * cumulated.total_customers
                                - cumulated.customers_above
                            )
                            / cumulated.customers
                    else 0
                end
            )
        ) / max(cumulated.total_positives) as share_of_buyers_found

    from cumulated
    cross join cuts
    group by cumulated.ranking, cuts.step, cuts.share_contacted

),

final as (

    select
        {{ dbt.concat(["coalesce(gains.ranking, 'not_computed')", "'|'",
                       "coalesce(" ~ dbt.safe_cast('gains.step', string_type()) ~ ", '')"])
        }} as gains_id,
        cast(gains.ranking as {{ string_type() }}) as ranking,
        cast(gains.step as integer) as step,
        cast(gains.share_contacted as {{ double_type() }}) as share_contacted,
        cast(gains.share_of_buyers_found as {{ double_type() }}) as share_of_buyers_found,
        cast(status.horizon_days as integer) as horizon_days,
        status.is_computed,
        status.not_computed_reason,
        status.cutoff_date

    from status
    left join gains
        on status.is_computed

)

select * from final
