{#-
    The model's features, one row each, from the var cluster_features (checked by
    cluster_feature_list): the list the dbt Python models fit on and the SQL assignment applies.
-#}

{%- set features = cluster_feature_list() -%}

with

features as (

    {%- for feature in features %}
    select
        {{ feature.position }} as feature_position,
        '{{ feature.name }}' as feature,
        '{{ feature.source_column }}' as source_column,
        '{{ feature.transform }}' as transform,
        {{ "true" if feature.floor_negative else "false" }} as floor_negative
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

final as (

    select
        cast(feature_position as integer) as feature_position,
        cast(feature as {{ string_type() }}) as feature,
        cast(source_column as {{ string_type() }}) as source_column,
        cast(transform as {{ string_type() }}) as transform,
        floor_negative

    from features

)

select * from final
