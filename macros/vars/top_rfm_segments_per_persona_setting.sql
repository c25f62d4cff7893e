{#-
    The var top_rfm_segments_per_persona: how many classic segments fct_segment_summary lists
    per persona, from 1 to 100 (there are 11 classic segments: a larger number lists them all).
-#}
{% macro top_rfm_segments_per_persona_setting() %}
    {{ return(validated_whole_number("top_rfm_segments_per_persona", 1, 100,
        meaning="classic segments listed per persona, for example 3")) }}
{% endmacro %}
