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
        cast({{ whole_number_setting('cluster_k_min', minimum=2, maximum=20) }} as integer)
            as cluster_k_min,
        cast({{ whole_number_setting('cluster_k_max', minimum=2, maximum=20) }} as integer)
            as cluster_k_max,
        cast({{ whole_number_setting('cluster_min_customers', minimum=3) }} as integer)
            as cluster_min_customers,
        cast({{ whole_number_setting('cluster_random_state', minimum=0, maximum=4294967295) }}
            as bigint) as cluster_random_state,
        cast({{ whole_number_setting('cluster_n_init', minimum=1, maximum=1000) }} as integer)
            as cluster_n_init,
        cast({{ whole_number_setting('new_customer_max_tenure_days', minimum=1, maximum=3650) }}
            as integer) as new_customer_max_tenure_days,
        cast({{ number_setting('late_purchase_gap_multiple', exclusive_minimum=0) }}
            as {{ double_type() }}) as late_purchase_gap_multiple,
        cast({{ number_setting('cluster_min_share_meeting_conditions', exclusive_minimum=0) }}
            as {{ double_type() }}) as cluster_min_share_meeting_conditions,
        cast({{ whole_number_setting('prediction_horizon_days', minimum=1, maximum=3650) }}
            as integer) as prediction_horizon_days

)

select * from final
