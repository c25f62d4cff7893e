{#-
    Which method gives next_purchase_probability, and why: every candidate trained one horizon
    before the backtest's cutoff and judged on what the cutoff's customers did next (AUC, Brier
    score, log loss, mean prediction against the observed rate, largest decile gap). The chosen
    one (is_chosen) is the highest AUC; a logistic calibration of the R+F+M score is a
    candidate, so the chosen method never ranks below that calibrated score (whose AUC is the
    plain score's, or 1 minus it when the training horizon taught it a negative slope). A
    chosen AUC at or below 0.5 is not published as next_purchase_probability (the reason says
    so). Empty when the build has no backtest (fct_backtest_summary says why).
-#}

with

comparison as (

    select * from {{ ref('int_purchase_model_comparison') }}

),

final as (

    select
        cast(method as {{ string_type() }}) as method,
        cast(validation as {{ string_type() }}) as validation,
        cast(reason as {{ string_type() }}) as reason,
        cast(auc as {{ double_type() }}) as auc,
        cast(brier_score as {{ double_type() }}) as brier_score,
        cast(log_loss as {{ double_type() }}) as log_loss,
        cast(mean_predicted as {{ double_type() }}) as mean_predicted,
        cast(observed_rate as {{ double_type() }}) as observed_rate,
        cast(max_abs_decile_gap as {{ double_type() }}) as max_abs_decile_gap,
        cast(deciles_outside_sampling_error as bigint) as deciles_outside_sampling_error,
        cast(train_customers as bigint) as train_customers,
        cast(test_customers as bigint) as test_customers,
        is_chosen

    from comparison

)

select * from final
