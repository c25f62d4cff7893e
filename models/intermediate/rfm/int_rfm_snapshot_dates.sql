{#-
    The dates the RFM is computed for, one row each, with the roles the date plays:
    - the as_of_date itself;
    - the history: the first day of each of the last `history_months` months before as_of_date
      (the `history_months` most recent month starts strictly before it; with as_of_date
      2011-12-10 and 12 months, 2011-12-01 back to 2011-01-01);
    - the backtest: the cutoff as_of_date - prediction_horizon_days (its RFM is compared with
      what customers did from the cutoff up to as_of_date) and the training cutoff two horizons
      before as_of_date (the purchase probability is trained there, out of time).
    Only dates with at least one kept line before them are kept.
-#}

{%- set history_months = history_months_setting() -%}
{%- set horizon_days = prediction_horizon_days_setting() -%}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

first_invoice as (

    select min(invoice_date) as first_invoice_date
    from {{ ref('int_customer_invoices') }}

),

month_before_as_of as (

    select
        cast(
            {{ dbt.date_trunc('month', dbt.dateadd('day', -1, 'as_of_date')) }} as date
        ) as month_start
    from as_of

),

candidate_dates as (

    select
        as_of_date as snapshot_date,
        'as_of_date' as snapshot_role
    from as_of
    {%- for months_back in range(history_months) %}

    union all

    select
        cast({{ dbt.dateadd('month', -months_back, 'month_start') }} as date) as snapshot_date,
        'history_month_start' as snapshot_role
    from month_before_as_of
    {%- endfor %}

    union all

    select
        cast({{ dbt.dateadd('day', -horizon_days, 'as_of_date') }} as date) as snapshot_date,
        'backtest_cutoff' as snapshot_role
    from as_of

    union all

    select
        cast(
            {{ dbt.dateadd('day', -2 * horizon_days, 'as_of_date') }} as date
        ) as snapshot_date,
        'training_cutoff' as snapshot_role
    from as_of

),

final as (

    select
        candidate_dates.snapshot_date,
        max(case when candidate_dates.snapshot_role = 'as_of_date' then 1 else 0 end) = 1
            as is_as_of_date,
        max(case when candidate_dates.snapshot_role = 'history_month_start' then 1 else 0 end) = 1
            as is_history_month_start,
        max(case when candidate_dates.snapshot_role = 'backtest_cutoff' then 1 else 0 end) = 1
            as is_backtest_cutoff,
        max(case when candidate_dates.snapshot_role = 'training_cutoff' then 1 else 0 end) = 1
            as is_training_cutoff

    from candidate_dates
    cross join first_invoice
    where first_invoice.first_invoice_date < candidate_dates.snapshot_date
    group by candidate_dates.snapshot_date

)

select * from final
