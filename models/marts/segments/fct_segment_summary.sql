with

customer_segments as (

    select * from {{ ref('dim_customer_segments') }}

),

totals as (

    select
        count(*) as customer_count,
        sum(monetary) as revenue

    from customer_segments

),

personas as (

    select
        persona_key,
        max(persona_name) as persona_name,
        max(persona_description) as persona_description,
        max(persona_recommended_action) as persona_recommended_action,
        count(*) as customer_count,
        sum(monetary) as revenue,
        sum(gross_revenue) as gross_revenue,
        sum(frequency) as purchase_invoices,
        avg(recency_days) as mean_recency_days,
        avg(frequency) as mean_frequency,
        -- Exact sum, then one floating-point division: the same on every engine (Spark's
        -- average of decimals keeps 6 places).
        cast(sum(monetary) as {{ double_type() }}) / count(*) as mean_monetary,
        {{ median('recency_days') }} as median_recency_days,
        {{ median('frequency') }} as median_frequency,
        -- In whole pennies: the median of an even count is then a midpoint that every engine
        -- holds exactly (DuckDB's median of a decimal truncates it to the cent, Spark's is a
        -- double), divided back to the currency once.
        {{ median('cast(monetary * 100 as bigint)') }} / 100.0 as median_monetary

    from customer_segments
    group by persona_key

),

rfm_segments_in_persona as (

    select
        persona_key,
        coalesce(rfm_segment, 'No purchase') as rfm_segment,
        count(*) as customer_count,
        row_number() over (
            partition by persona_key
            order by count(*) desc, coalesce(rfm_segment, 'No purchase')
        ) as segment_rank

    from customer_segments
    group by persona_key, coalesce(rfm_segment, 'No purchase')

),

top_rfm_segments as (

    select
        rfm_segments_in_persona.persona_key,
        max(
            case
                when rfm_segments_in_persona.segment_rank = 1
                    then rfm_segments_in_persona.rfm_segment
            end
        ) as top_rfm_segment,
        {{ dbt.listagg(
            dbt.concat([
                'rfm_segments_in_persona.rfm_segment', "' ('",
                dbt.safe_cast(
                    'cast(round(100.0 * rfm_segments_in_persona.customer_count'
                        ~ ' / personas.customer_count, 1) as numeric(4, 1))',
                    string_type()),
                "'%)'",
            ]),
            "', '",
            'order by rfm_segments_in_persona.segment_rank',
        ) }} as top_rfm_segments

    from rfm_segments_in_persona
    inner join personas
        on rfm_segments_in_persona.persona_key = personas.persona_key
    where rfm_segments_in_persona.segment_rank <= {{ top_rfm_segments_per_persona_setting() }}
    group by rfm_segments_in_persona.persona_key

),

seed_personas as (

    select
        persona_key,
        assigned_by
    from {{ ref('cluster_personas') }}

),

fitting_personas as (

    select
        persona_matches.persona_key,
        count(*) as fitting_customer_count

    from {{ ref('int_customer_persona_matches') }} as persona_matches
    inner join customer_segments
        on persona_matches.customer_id = customer_segments.customer_id
    where persona_matches.meets_every_condition and customer_segments.cluster_id is not null
    group by persona_matches.persona_key

),

matched_personas as (

    select
        matched_persona_key as persona_key,
        count(*) as matched_customer_count

    from customer_segments
    where matched_persona_key is not null
    group by matched_persona_key

),

backtest_personas as (

    -- The same name at the cutoff's fit: only the seed's personas, since a fallback
    -- segment_<n> of the cutoff is another cluster than today's segment_<n>.
    select
        backtest.segment_key as persona_key,
        backtest.repeat_rate,
        backtest.lift,
        backtest.is_name_contradicted
    from {{ ref('fct_segment_backtest') }} as backtest
    inner join seed_personas
        on backtest.segment_key = seed_personas.persona_key
    where backtest.grouping = 'persona'

),

final as (

    select
        personas.persona_key,
        personas.persona_name,
        personas.persona_description,
        personas.persona_recommended_action,
        top_rfm_segments.top_rfm_segment,
        top_rfm_segments.top_rfm_segments,

        personas.customer_count,
        cast(personas.customer_count as {{ double_type() }}) / totals.customer_count
            as customer_share,
        case
            when seed_personas.assigned_by = 'conditions'
                then coalesce(fitting_personas.fitting_customer_count, 0)
        end as fitting_customer_count,
        case
            when seed_personas.persona_key is not null
                then coalesce(matched_personas.matched_customer_count, 0)
        end as matched_customer_count,
        cast(personas.revenue as numeric(18, 2)) as revenue,
        cast(personas.revenue as {{ double_type() }})
        / nullif(cast(totals.revenue as {{ double_type() }}), 0) as revenue_share,
        cast(personas.median_recency_days as {{ double_type() }}) as median_recency_days,
        cast(personas.mean_recency_days as {{ double_type() }}) as mean_recency_days,
        cast(personas.median_frequency as {{ double_type() }}) as median_frequency,
        cast(personas.mean_frequency as {{ double_type() }}) as mean_frequency,
        cast(personas.median_monetary as {{ double_type() }}) as median_monetary,
        cast(personas.mean_monetary as {{ double_type() }}) as mean_monetary,
        cast(
            {{ rounded_division(
                'personas.gross_revenue', 'nullif(personas.purchase_invoices, 0)'
            ) }}
            as numeric(18, 2)
        ) as average_order_value,
        cast(backtest_personas.repeat_rate as {{ double_type() }}) as backtest_repeat_rate,
        cast(backtest_personas.lift as {{ double_type() }}) as backtest_lift,
        backtest_personas.is_name_contradicted as is_name_contradicted_by_backtest

    from personas
    cross join totals
    left join top_rfm_segments
        on personas.persona_key = top_rfm_segments.persona_key
    left join backtest_personas
        on personas.persona_key = backtest_personas.persona_key
    left join seed_personas
        on personas.persona_key = seed_personas.persona_key
    left join fitting_personas
        on personas.persona_key = fitting_personas.persona_key
    left join matched_personas
        on personas.persona_key = matched_personas.persona_key

)

select * from final
