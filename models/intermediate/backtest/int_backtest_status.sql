{#-
    One row: whether this build has a backtest, its dates, and why not when it has none. The
    backtest needs two horizons of data before as_of_date: the cutoff (as_of_date -
    prediction_horizon_days), whose customers are compared with what they did up to as_of_date,
    and a kept line before the training cutoff one horizon earlier, where the purchase
    probability it judges is trained. It also needs cluster_min_customers customers to cluster
    at the cutoff, as many customers with a purchase before the training cutoff to train the
    probability on (a log just over two horizons long has only its first days' customers there,
    and a model fitted on a dozen of them is worse than none), and, in each of the two horizons
    that follow the cutoffs, some customers who bought and some who did not. An as_of_date more than a week after the last kept line (more
    than 8 days: the default as_of_date is the day after it) leaves the end of the last horizon
    without data: no backtest then either.
-#}

{%- set horizon_days = prediction_horizon_days_setting() -%}
{%- set min_customers = cluster_min_customers_setting() -%}
{%- set max_days_after_data = 8 -%}
{%- set days_after_data = dbt.datediff(
    'invoice_dates.last_invoice_date', 'as_of.as_of_date', 'day'
) -%}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

snapshots as (

    select * from {{ ref('int_customer_purchase_snapshots') }}

),

invoice_dates as (

    select
        min(invoice_date) as first_invoice_date,
        max(invoice_date) as last_invoice_date
    from {{ ref('int_customer_invoices') }}

),

cutoff_customers as (

    select
        count(*) as customers,
        sum(case when {{ rule_persona_key() }} is null then 1 else 0 end) as clustered_customers
    from snapshots
    where snapshot_role = 'backtest_cutoff'

),

training_customers as (

    select sum(case when has_purchase then 1 else 0 end) as customers
    from snapshots
    where snapshot_role = 'training_cutoff'

),

horizon_outcomes as (

    select
        snapshot_role,
        count(*) as customers,
        sum(case when has_next_period_purchase then 1 else 0 end) as buyers
    from snapshots
    where snapshot_role in ('backtest_cutoff', 'training_cutoff')
    group by snapshot_role

),

one_sided_horizon as (

    select
        min(
            case
                when buyers = 0 then {{ dbt.concat([
                    "'no customer of the '", "snapshot_role",
                    "' snapshot bought in the " ~ horizon_days ~ " days after it (customers who "
                        ~ "do not come back, a horizon out of season, or an as_of_date after the "
                        ~ "end of the data?): nothing to tell buyers from non-buyers'",
                ]) }}
                when buyers = customers then {{ dbt.concat([
                    "'every customer of the '", "snapshot_role",
                    "' snapshot bought in the " ~ horizon_days ~ " days after it: nothing to "
                        ~ "tell buyers from non-buyers'",
                ]) }}
            end
        ) as reason
    from horizon_outcomes

),

final as (

    select
        cast({{ dbt.dateadd('day', -horizon_days, 'as_of.as_of_date') }} as date) as cutoff_date,
        cast({{ dbt.dateadd('day', -2 * horizon_days, 'as_of.as_of_date') }} as date)
            as training_cutoff_date,
        as_of.as_of_date,
        {{ horizon_days }} as horizon_days,
        cutoff_customers.customers as cutoff_customers,
        cast(
            case
                when cutoff_customers.customers = 0
                    then {{ dbt.concat([
                        "'the data starts on '",
                        dbt.safe_cast('invoice_dates.first_invoice_date', string_type()),
                        "', less than two horizons of " ~ horizon_days
                            ~ " days (prediction_horizon_days) before as_of_date '",
                        dbt.safe_cast('as_of.as_of_date', string_type()),
                        "': nothing to train on and to compare with'",
                    ]) }}
                -- An as_of_date well after the data: the last horizon's end has no data, and
                -- its customers would count as not buying there (a week without lines can be a
                -- closed shop; more cannot be told from the end of the data).
                when {{ days_after_data }} > {{ max_days_after_data }}
                    then {{ dbt.concat([
                        "'as_of_date '",
                        dbt.safe_cast('as_of.as_of_date', string_type()),
                        "' is '",
                        dbt.safe_cast(days_after_data, string_type()),
                        "' days after the last kept line ('",
                        dbt.safe_cast('invoice_dates.last_invoice_date', string_type()),
                        "'): the horizon before it is not covered by the data, and its customers "
                            ~ "would count as not buying there'",
                    ]) }}
                when cutoff_customers.clustered_customers < {{ min_customers }}
                    then {{ dbt.concat([
                        "'only '",
                        dbt.safe_cast('cutoff_customers.clustered_customers', string_type()),
                        "' customers to cluster at the cutoff, fewer than "
                            ~ "cluster_min_customers = " ~ min_customers ~ "'",
                    ]) }}
                when coalesce(training_customers.customers, 0) < {{ min_customers }}
                    then {{ dbt.concat([
                        "'only '",
                        dbt.safe_cast('coalesce(training_customers.customers, 0)', string_type()),
                        "' customers with a purchase before the training cutoff '",
                        dbt.safe_cast(
                            "cast(" ~ dbt.dateadd('day', -2 * horizon_days, 'as_of.as_of_date')
                                ~ " as date)",
                            string_type(),
                        ),
                        "' (two horizons of " ~ horizon_days ~ " days before as_of_date), "
                            ~ "fewer than cluster_min_customers = " ~ min_customers
                            ~ ": too few to train the purchase probability on'",
                    ]) }}
                when one_sided_horizon.reason is not null then one_sided_horizon.reason
            end as {{ string_type() }}
        ) as not_computed_reason

    from as_of
    cross join invoice_dates
    cross join cutoff_customers
    cross join training_customers
    cross join one_sided_horizon

)

select
    *,
    not_computed_reason is null as is_computed
from final
