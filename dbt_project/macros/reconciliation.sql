{#
    The as-of day of a reconciliation build (var `as_of`, YYYY-MM-DD; default: the day dbt runs).
    Each daily partition of the reconciliation marts is a build with its day as `as_of`: the marts
    see only what was known by the end of that day (UTC), so a backfill of an old day reproduces it.
#}
{% macro reconciliation_as_of() -%}
    {{ return(var('as_of', run_started_at.strftime('%Y-%m-%d'))) }}
{%- endmacro %}

{#
    A date on or before the as-of day. With var `reconciliation_known_by_as_of: false` (the file CLI:
    what the files hold is what is known) every input counts, whatever its date.
#}
{% macro dated_by_as_of(column) -%}
    {%- if var('reconciliation_known_by_as_of', true) -%}
    {{ column }} <= cast('{{ reconciliation_as_of() }}' as date)
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{# A timestamp (timezone-aware) on or before the end of the as-of day, in UTC (or, as above, any). #}
{% macro known_by_as_of(column) -%}
    {{ dated_by_as_of('cast(' ~ to_utc(column) ~ ' as date)') }}
{%- endmacro %}

{#
    Whose orders the 3PL ships (var `reconciliation_tpl_scope`): `handed_off` (default, the live
    pipeline: the orders handed off through the gateway or labelled by the 3PL, each for the units its
    plan put at the 3PL) or `all_orders` (the file CLI: every order, all of it).
#}
{% macro reconciliation_tpl_scope() -%}
    {%- set scope = var('reconciliation_tpl_scope', 'handed_off') -%}
    {%- if scope not in ('handed_off', 'all_orders') -%}
        {{ exceptions.raise_compiler_error("reconciliation_tpl_scope must be handed_off or all_orders, not " ~ scope) }}
    {%- endif -%}
    {{ return(scope) }}
{%- endmacro %}
