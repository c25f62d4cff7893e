{#-
    Is the model of as_of_date still the right one for the customers of each snapshot date?
    Two kinds of rows per snapshot date of the history:
    - `persona_share`: each persona's share of the snapshot's customers (fct_customer_segment_history);
    - `feature_psi`: for each model feature (var cluster_features, on its column in original
      units), the population stability index of the snapshot's customers with a purchase
      against as_of_date's: PSI = sum over bins of (q - p) x ln(q / p), p and q the shares of
      as_of_date's and the snapshot's customers in each bin, the bins being as_of_date's deciles
      (ties share a bin), shares floored at 0.0001 so that an empty bin counts without dividing
      by zero.
    `refit_recommended` is true on every row of a snapshot date whose largest feature PSI
    exceeds the var drift_psi_threshold (default 0.25, the usual "significant shift").
-#}

{%- set features = cluster_feature_list() -%}
{%- set threshold = drift_psi_threshold_setting() -%}
{%- set floor_share = 0.0001 -%}

with

rfm_history as (

    select * from {{ ref('fct_customer_rfm_history') }}

),

segment_history as (

    select * from {{ ref('fct_customer_segment_history') }}

),

persona_counts as (

    select
        snapshot_date,
        persona_key,
        count(*) as customers,
        sum(count(*)) over (partition by snapshot_date) as snapshot_customers

    from segment_history
    group by snapshot_date, persona_key

),

feature_values as (

    {%- for feature in features %}
    select
        snapshot_date,
        is_as_of_date,
        customer_id,
        '{{ feature.name }}' as feature,
        cast({{ feature.source_column }} as {{ double_type() }}) as feature_value
    from rfm_history
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

reference_positions as (

    select
        feature,
        feature_value,
        row_number() over (partition by feature order by feature_value) as position,
        count(*) over (partition by feature) as customer_count

    from feature_values
    where is_as_of_date

),

decile_edges as (

    {%- for decile in range(1, 10) %}
    select
        feature,
        max(
            case when position = ceil({{ decile }} * customer_count / 10.0) then feature_value end
        ) as edge
    from reference_positions
    group by feature
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

binned as (

    select
        feature_values.snapshot_date,
        feature_values.is_as_of_date,
        feature_values.feature,
        feature_values.customer_id,
        sum(case when feature_values.feature_value > decile_edges.edge then 1 else 0 end) as bin

    from feature_values
    inner join decile_edges
        on feature_values.feature = decile_edges.feature
    group by
        feature_values.snapshot_date,
        feature_values.is_as_of_date,
        feature_values.feature,
        feature_values.customer_id

),

bin_shares as (

    select
        snapshot_date,
        is_as_of_date,
        feature,
        bin,
        cast(count(*) as {{ double_type() }})
        / sum(count(*)) over (partition by snapshot_date, feature) as share

    from binned
    group by snapshot_date, is_as_of_date, feature, bin

),

snapshots as (

    select distinct snapshot_date from bin_shares

),

bins as (

    select distinct
        feature,
        bin
    from bin_shares

),

every_bin as (

    select
        snapshots.snapshot_date,
        bins.feature,
        bins.bin
    from snapshots
    cross join bins

),

bin_terms as (

    select
        every_bin.snapshot_date,
        every_bin.feature,
        greatest(coalesce(snapshot_shares.share, 0), {{ floor_share }}) as snapshot_share,
        greatest(coalesce(reference_shares.share, 0), {{ floor_share }}) as reference_share

    from every_bin
    left join bin_shares as snapshot_shares
        on every_bin.snapshot_date = snapshot_shares.snapshot_date
            and every_bin.feature = snapshot_shares.feature
            and every_bin.bin = snapshot_shares.bin
    left join bin_shares as reference_shares
        on every_bin.feature = reference_shares.feature
            and every_bin.bin = reference_shares.bin
            and reference_shares.is_as_of_date

),

feature_psi as (

    select
        snapshot_date,
        feature,
        sum((snapshot_share - reference_share) * ln(snapshot_share / reference_share)) as psi

    from bin_terms
    group by snapshot_date, feature

),

snapshot_drift as (

    select
        snapshot_date,
        max(psi) as max_feature_psi

    from feature_psi
    group by snapshot_date

),

drift_rows as (

    select
        snapshot_date,
        'persona_share' as drift_kind,
        persona_key as drift_key,
        cast(customers as {{ double_type() }}) / snapshot_customers as drift_value
    from persona_counts

    union all

    select
        snapshot_date,
        'feature_psi' as drift_kind,
        feature as drift_key,
        psi as drift_value
    from feature_psi

),

final as (

    select
        {{ dbt.concat([
            dbt.safe_cast('drift_rows.snapshot_date', string_type()), "'|'",
            'drift_rows.drift_kind', "'|'", 'drift_rows.drift_key',
        ]) }} as drift_id,
        cast(drift_rows.drift_kind as {{ string_type() }}) as drift_kind,
        cast(drift_rows.drift_key as {{ string_type() }}) as drift_key,
        cast(drift_rows.drift_value as {{ double_type() }}) as drift_value,
        cast(snapshot_drift.max_feature_psi as {{ double_type() }}) as max_feature_psi,
        cast({{ threshold }} as {{ double_type() }}) as psi_threshold,
        snapshot_drift.max_feature_psi > {{ threshold }} as refit_recommended,
        drift_rows.snapshot_date

    from drift_rows
    inner join snapshot_drift
        on drift_rows.snapshot_date = snapshot_drift.snapshot_date

)

select * from final
