{#
    CTEs that assign each row of `customers` (a relation or an earlier CTE holding `key_columns`
    and the source columns of the model's features) to the nearest centroid of the stored
    model, in plain SQL:
    the transform of cluster_feature_transform (clip to the fitted bounds in original units, the
    skew transform, minus center, divided by scale), then the Euclidean distance to every centroid
    of cluster_centroids in model space. Ties go to the lower cluster_id. The last CTE, named
    `output`, has `key_columns`, cluster_id, persona_key, distance_to_centroid and
    margin_to_next_centroid (second-nearest distance minus the nearest; NULL with a single
    cluster). The caller writes `with`, then these CTEs, then its own. CTE names start with
    `output` so that two assignments can share a model. Fitting is Python; assigning is this
    join, so any warehouse assigns any number of customers or snapshots.
#}
{% macro nearest_centroid_ctes(customers, key_columns, output) %}
    {%- set features = cluster_feature_list() -%}
    {%- set keys = key_columns | join(", ") -%}

    {{ output }}__transform as (

        select * from {{ ref('cluster_feature_transform') }}

    ),

    {{ output }}__centroids as (

        select * from {{ ref('cluster_centroids') }}

    ),

    {#- One row of parameters, one column per parameter and feature. -#}
    {{ output }}__parameters as (

        select
            {%- for feature in features %}
            max(case when feature = '{{ feature.name }}' then transform end)
                as {{ feature.name }}_transform,
            max(case when feature = '{{ feature.name }}' then clip_lower end)
                as {{ feature.name }}_clip_lower,
            max(case when feature = '{{ feature.name }}' then clip_upper end)
                as {{ feature.name }}_clip_upper,
            max(case when feature = '{{ feature.name }}' then center end)
                as {{ feature.name }}_center,
            max(case when feature = '{{ feature.name }}' then scale end)
                as {{ feature.name }}_scale{{ "," if not loop.last }}
            {%- endfor %}

        from {{ output }}__transform

    ),

    {{ output }}__clipped as (

        select
            {{ keys }},
            {%- for feature in features %}
            least(
                greatest(
                    cast({{ feature.source_column }} as {{ double_type() }}),
                    parameters.{{ feature.name }}_clip_lower
                ),
                parameters.{{ feature.name }}_clip_upper
            ) as {{ feature.name }}_clipped{{ "," if not loop.last }}
            {%- endfor %}

        from {{ customers }}
        cross join {{ output }}__parameters as parameters

    ),

    {{ output }}__standardised as (

        select
            {{ keys }},
            {%- for feature in features %}
            (
                case parameters.{{ feature.name }}_transform
                    when 'sqrt' then sqrt({{ feature.name }}_clipped)
                    when 'log1p' then ln(1 + {{ feature.name }}_clipped)
                    else {{ feature.name }}_clipped
                end - parameters.{{ feature.name }}_center
            ) / parameters.{{ feature.name }}_scale as {{ feature.name }}_z{{ "," if not loop.last }}
            {%- endfor %}

        from {{ output }}__clipped
        cross join {{ output }}__parameters as parameters

    ),

    {{ output }}__distances as (

        select
            {%- for column in key_columns %}
            standardised.{{ column }},
            {%- endfor %}
            centroids.cluster_id,
            centroids.persona_key,
            {#- d * d rather than power(d, 2): a product is exact IEEE arithmetic on every
                engine, DuckDB's power() is not always the product's last bit. -#}
            sqrt(
                {%- for feature in features %}
                (standardised.{{ feature.name }}_z - centroids.{{ feature.name }}_z)
                * (standardised.{{ feature.name }}_z - centroids.{{ feature.name }}_z)
                {{- " +" if not loop.last }}
                {%- endfor %}
            ) as distance

        from {{ output }}__standardised as standardised
        cross join {{ output }}__centroids as centroids

    ),

    {{ output }}__ranked as (

        select
            *,
            row_number() over (
                partition by {{ keys }} order by distance, cluster_id
            ) as distance_rank

        from {{ output }}__distances

    ),

    {{ output }} as (

        select
            {%- for column in key_columns %}
            nearest.{{ column }},
            {%- endfor %}
            nearest.cluster_id,
            nearest.persona_key,
            nearest.distance as distance_to_centroid,
            runner_up.distance - nearest.distance as margin_to_next_centroid

        from {{ output }}__ranked as nearest
        left join {{ output }}__ranked as runner_up
            on
            {%- for column in key_columns %}
            nearest.{{ column }} = runner_up.{{ column }} and
            {%- endfor %}
            runner_up.distance_rank = 2
        where nearest.distance_rank = 1

    )
{% endmacro %}
