{#-
    The three snapshots the fits read, one row per snapshot role and customer with a kept line
    before its date: `as_of_date` (the customers the model and the purchase probability are for),
    `backtest_cutoff` (as_of_date - prediction_horizon_days: the backtest's customers) and
    `training_cutoff` (one horizon earlier: where the purchase probability of the backtest is
    trained). For the two cutoffs, what the customer did in the horizon that follows:
    has_next_period_purchase (a kept purchase line from the cutoff up to the next snapshot) and
    next_period_revenue (the net revenue of their kept lines in that window). Each snapshot is
    built only from lines before its date (int_customer_rfm_snapshots): the outcome never leaks
    into the features. The two cutoffs are there only when the data covers two horizons before
    as_of_date (a kept line before the training cutoff): with less, there is no backtest
    (int_backtest_status says so) and no purchase probability.
-#}

{%- set horizon_days = prediction_horizon_days_setting() -%}

with

rfm_snapshots as (

    select * from {{ ref('int_customer_rfm_snapshots') }}

),

snapshot_dates as (

    select * from {{ ref('int_rfm_snapshot_dates') }}

),

customer_invoices as (

    select * from {{ ref('int_customer_invoices') }}

),

backtest_span as (

    select max(case when is_training_cutoff then 1 else 0 end) = 1 as covers_two_horizons
    from snapshot_dates

),

roles as (

    select
        snapshot_dates.snapshot_date,
        case
            when snapshot_dates.is_as_of_date then 'as_of_date'
            when snapshot_dates.is_backtest_cutoff then 'backtest_cutoff'
            when snapshot_dates.is_training_cutoff then 'training_cutoff'
        end as snapshot_role,
        cast(
            {{ dbt.dateadd('day', horizon_days, 'snapshot_dates.snapshot_date') }} as date
        ) as horizon_end_date

    from snapshot_dates
    cross join backtest_span
    where snapshot_dates.is_as_of_date
        or (
            (snapshot_dates.is_backtest_cutoff or snapshot_dates.is_training_cutoff)
            and backtest_span.covers_two_horizons
        )

),

next_period as (

    select
        roles.snapshot_date,
        customer_invoices.customer_id,
        max(case when customer_invoices.is_purchase_invoice then 1 else 0 end) = 1
            as has_next_period_purchase,
        sum(customer_invoices.net_amount) as next_period_revenue

    from roles
    inner join customer_invoices
        on roles.snapshot_date <= customer_invoices.invoice_date
            and roles.horizon_end_date > customer_invoices.invoice_date
    where roles.snapshot_role != 'as_of_date'
    group by roles.snapshot_date, customer_invoices.customer_id

),

final as (

    select
        roles.snapshot_role,
        rfm_snapshots.*,
        case
            when roles.snapshot_role != 'as_of_date'
                then coalesce(next_period.has_next_period_purchase, false)
        end as has_next_period_purchase,
        case
            when roles.snapshot_role != 'as_of_date'
                then cast(coalesce(next_period.next_period_revenue, 0) as numeric(18, 2))
        end as next_period_revenue

    from rfm_snapshots
    inner join roles
        on rfm_snapshots.snapshot_date = roles.snapshot_date
    left join next_period
        on rfm_snapshots.snapshot_date = next_period.snapshot_date
            and rfm_snapshots.customer_id = next_period.customer_id

)

select * from final
