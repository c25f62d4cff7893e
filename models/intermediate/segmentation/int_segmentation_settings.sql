{#-
    One row: the segmentation settings of this build, from the dbt vars, each checked by its
    setting macro (the on-run-start hook validate_vars checks them all before any model runs).
    The dbt Python models read their settings here rather than from `config`, which dbt renders
    once when it parses the project: a build with other vars then needs no new parse, and the
    settings a build used stay beside its results.
-#}

with

final as (

    select
        cast({{ string_literal(cluster_k_setting()) }} as {{ string_type() }}) as cluster_k,
        cast({{ cluster_k_min_setting() }} as integer)
            as cluster_k_min,
        cast({{ cluster_k_max_setting() }} as integer)
            as cluster_k_max,
        cast({{ cluster_min_customers_setting() }} as integer)
            as cluster_min_customers,
        cast(
            {{ cluster_random_state_setting() }}
            as bigint
        ) as cluster_random_state,
        cast({{ cluster_n_init_setting() }} as integer)
            as cluster_n_init,
        cast(
            {{ new_customer_max_tenure_days_setting() }}
            as integer
        ) as new_customer_max_tenure_days,
        cast(
            {{ late_purchase_gap_multiple_setting() }}
            as {{ double_type() }}
        ) as late_purchase_gap_multiple,
        cast(
            {{ cluster_min_share_meeting_conditions_setting() }}
            as {{ double_type() }}
        ) as cluster_min_share_meeting_conditions,
        cast(
            {{ prediction_horizon_days_setting() }}
            as integer
        ) as prediction_horizon_days

)

select * from final
