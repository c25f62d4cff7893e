{#
    Passes when `expression` holds on every row; returns the rows that break it. Works on a model
    or on a column (the column is then only a label). A stand-in for dbt_utils.expression_is_true,
    which cannot be installed here.
#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
