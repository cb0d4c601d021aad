{# Fails with every row whose `column_name` is below zero (NULLs are `not_null`'s business). #}
{% test non_negative(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0

{% endtest %}
