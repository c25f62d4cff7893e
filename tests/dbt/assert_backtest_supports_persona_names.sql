{{ config(severity="warn") }}
{#-
    Warns (does not fail the build) when the backtest contradicts a persona's name: a persona
    whose seed row expects its customers to come back more (or less) often than the base rate
    did the opposite by more than sampling error (fct_segment_backtest.is_name_contradicted).
    The build is right, the name may not be: read the rows before acting on that persona.
-#}

select
    segment_key as persona_key,
    expected_repeat,
    customers,
    repeat_rate,
    base_rate,
    repeat_rate_z_score
from {{ ref('fct_segment_backtest') }}
where is_name_contradicted
