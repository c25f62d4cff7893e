{#
    Passes when no two rows share the same values in all of `combination_of_columns`
    (the project's stand-in for dbt_utils' test of the same name, which cannot be installed here).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(", ") }},
    count(*) as row_count
from {{ model }}
group by {{ combination_of_columns | join(", ") }}
having count(*) > 1

{% endtest %}
