{#-
    How well does each way of ranking customers pick those who buy next? For the customers with
    a purchase before the cutoff (as_of_date - prediction_horizon_days), the area under the ROC
    curve of four rankings for "bought at least once from the cutoff up to as_of_date":
    next_purchase_probability (the chosen method, trained one horizon earlier: out of time),
    rfm_score (recency_score + frequency_score + monetary_score as of the cutoff), persona (the
    repeat rate of the customer's persona of the cutoff fit, measured on the other half of the
    customers) and recency_days (the more recent, the likelier). 0.5 is chance. When the build
    has no backtest (int_backtest_status), one row says why.
-#}

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

{{ ranking_auc_ctes('scored', 'aucs') }},

methods as (

    select max(method) as method from probabilities

),

final as (

    select
        cast(aucs.ranking as {{ string_type() }}) as ranking,
        cast(
            case when aucs.ranking = 'next_purchase_probability' then methods.method end
            as {{ string_type() }}
        ) as method,
        cast(aucs.customers as bigint) as customers,
        cast(aucs.positives as bigint) as repeat_customers,
        cast(aucs.positives as {{ double_type() }}) / aucs.customers as base_rate,
        cast(aucs.auc as {{ double_type() }}) as auc,
        cast(status.horizon_days as integer) as horizon_days,
        status.is_computed,
        status.not_computed_reason,
        status.cutoff_date

    from status
    cross join methods
    left join aucs
        on status.is_computed

)

select * from final
