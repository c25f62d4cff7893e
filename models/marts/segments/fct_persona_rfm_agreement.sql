-- One row: the adjusted Rand index between cluster personas and classic RFM segments, computed
-- from the contingency table (Hubert & Arabie, 1985): 1 = the same partition, ~0 = chance.
with

contingency as (

    select * from {{ ref('fct_persona_rfm_contingency') }}

),

persona_sizes as (

    select
        persona_key,
        sum(customer_count) as customer_count
    from contingency
    group by persona_key

),

rfm_segment_sizes as (

    select
        rfm_segment_key,
        sum(customer_count) as customer_count
    from contingency
    group by rfm_segment_key

),

pair_counts as (

    -- Pair counts in floating point on every engine (whole numbers, exact below 2^53): Spark
    -- would divide decimals below and keep 6 places.
    select
        (
            select sum(cast(customer_count * (customer_count - 1) as {{ double_type() }}) / 2)
            from contingency
        ) as pairs_together_in_both,
        (
            select sum(cast(customer_count * (customer_count - 1) as {{ double_type() }}) / 2)
            from persona_sizes
        ) as pairs_together_in_persona,
        (
            select sum(cast(customer_count * (customer_count - 1) as {{ double_type() }}) / 2)
            from rfm_segment_sizes
        ) as pairs_together_in_rfm_segment,
        (
            select cast(sum(customer_count) * (sum(customer_count) - 1) as {{ double_type() }}) / 2
            from contingency
        ) as all_pairs,
        (select cast(sum(customer_count) as bigint) from contingency) as customer_count,
        (select count(*) from persona_sizes) as persona_count,
        (select count(*) from rfm_segment_sizes) as rfm_segment_count

),

expected as (

    select
        *,
        pairs_together_in_persona * pairs_together_in_rfm_segment / nullif(all_pairs, 0)
            as expected_pairs_together,
        (pairs_together_in_persona + pairs_together_in_rfm_segment) / 2.0
            as max_pairs_together

    from pair_counts

),

final as (

    select
        customer_count,
        persona_count,
        rfm_segment_count,
        cast(
            (pairs_together_in_both - expected_pairs_together)
            / nullif(max_pairs_together - expected_pairs_together, 0)
            as double
        ) as adjusted_rand_index

    from expected

)

select * from final
