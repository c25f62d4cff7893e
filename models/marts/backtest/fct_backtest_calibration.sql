{#-
    Is next_purchase_probability calibrated? The customers with a purchase before the cutoff,
    in ten deciles of the chosen method's predicted probability (decile = 1 + floor(10 x (rank -
    1) / n), by rank of the prediction), with the mean prediction and the observed repeat rate
    from the cutoff up to as_of_date. Two validations: out_of_time (the method trained one
    horizon before the cutoff, exactly as the production model is trained one horizon before
    as_of_date: its gap includes the drift between the two horizons, a season or a trend) and
    cross_validation (out-of-fold within the cutoff's horizon: the method's calibration without
    that drift). Per decile, the standard error of the observed rate if the predictions were
    right (sqrt(sum p (1 - p)) / customers) says whether the gap is more than sampling alone
    explains. When the build has no backtest (int_backtest_status), one row says why.
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

probabilities as (

    select * from {{ ref('int_purchase_probabilities') }}
    where snapshot_role = 'backtest_cutoff'

),

predicted as (

    select
        probabilities.validation,
        probabilities.next_purchase_probability,
        cutoff_customers.has_next_period_purchase,
        rank() over (
            partition by probabilities.validation
            order by probabilities.next_purchase_probability
        ) as prediction_rank,
        count(*) over (partition by probabilities.validation) as customer_count

    from cutoff_customers
    inner join probabilities
        on cutoff_customers.customer_id = probabilities.customer_id

),

deciles as (

    select
        validation,
        cast(
            1 + floor(cast(10 * (prediction_rank - 1) as {{ double_type() }}) / customer_count)
            as integer
        ) as decile,
        count(*) as customers,
        avg(next_purchase_probability) as mean_predicted,
        cast(sum(case when has_next_period_purchase then 1 else 0 end) as {{ double_type() }})
        / count(*) as observed_rate,
        min(next_purchase_probability) as min_predicted,
        max(next_purchase_probability) as max_predicted,
        sum(next_purchase_probability * (1 - next_purchase_probability)) as variance_sum

    from predicted
    group by
        validation,
        cast(
            1 + floor(cast(10 * (prediction_rank - 1) as {{ double_type() }}) / customer_count)
            as integer
        )

),

judged as (

    select
        deciles.*,
        deciles.observed_rate - deciles.mean_predicted as gap,
        sqrt(deciles.variance_sum) / deciles.customers as gap_standard_error

    from deciles

),

final as (

    select
        {{ dbt.concat(["coalesce(judged.validation, 'not_computed')", "'|'",
                       "coalesce(" ~ dbt.safe_cast('judged.decile', string_type()) ~ ", '')"])
        }} as calibration_id,
        cast(judged.validation as {{ string_type() }}) as validation,
        judged.decile,
        cast(judged.customers as bigint) as customers,
        cast(judged.mean_predicted as {{ double_type() }}) as mean_predicted,
        cast(judged.observed_rate as {{ double_type() }}) as observed_rate,
        cast(judged.gap as {{ double_type() }}) as gap,
        cast(judged.min_predicted as {{ double_type() }}) as min_predicted,
        cast(judged.max_predicted as {{ double_type() }}) as max_predicted,
        cast(judged.gap_standard_error as {{ double_type() }}) as gap_standard_error,
        cast(
            case
                when judged.gap_standard_error > 0 then judged.gap / judged.gap_standard_error
            end as {{ double_type() }}
        ) as gap_z_score,
        -- 1.96: two-sided 95 % (customer_segments.backtest.SAMPLING_ERROR_Z)
        abs(judged.gap) <= 1.96 * judged.gap_standard_error as is_gap_within_sampling_error,
        cast(status.horizon_days as integer) as horizon_days,
        status.is_computed,
        status.not_computed_reason,
        status.cutoff_date

    from status
    left join judged
        on status.is_computed

)

select * from final
