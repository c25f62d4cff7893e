{#-
    One row: the segmentation settings of this build, from the dbt vars, checked by the
    on-run-start hook validate_vars. The dbt Python models read their settings here rather than
    from `config`, which dbt renders once when it parses the project: a build with other vars
    then needs no new parse, and the settings a build used stay beside its results.
-#}

with

final as (

    select
        cast('{{ cluster_k_setting() }}' as {{ string_type() }}) as cluster_k,
        cast({{ var('cluster_random_state') | int }} as integer) as cluster_random_state,
        cast({{ var('cluster_n_init') | int }} as integer) as cluster_n_init

)

select * from final
