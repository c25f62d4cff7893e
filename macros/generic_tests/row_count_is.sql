{#
    Passes when the model has exactly `expected` rows; returns one row with the count otherwise.
    The key test of a one-row table (its grain is "the build").
#}
{% test row_count_is(model, expected) %}

select count(*) as row_count
from {{ model }}
having count(*) != {{ expected | int }}

{% endtest %}
