{#
    Fails with one row per combination of `columns` that occurs more than once: the grain check
    of a table whose key spans several columns (dbt's built-in `unique` takes one column only).
    Plain GROUP BY / HAVING, so it runs unchanged on DuckDB and PostgreSQL.
#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
