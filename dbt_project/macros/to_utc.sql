{#
    A timezone-aware timestamp as a naive UTC timestamp. `AT TIME ZONE 'UTC'` behaves the same on
    PostgreSQL and DuckDB, whatever the session TimeZone, so a day boundary is always UTC midnight.
#}
{% macro to_utc(column) -%}
    ({{ column }} at time zone 'UTC')
{%- endmacro %}
