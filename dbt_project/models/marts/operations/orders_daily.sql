-- Daily order totals by channel, financial status and currency.
-- Grain: one row per (order_date, channel, financial_status, currency). Days are UTC days of the
-- order's created_at; money stays in its own currency (amounts in different currencies never add up).
with orders as (

    select * from {{ ref('stg_warehouse__orders') }}

),

order_lines as (

    select * from {{ ref('stg_warehouse__order_lines') }}

),

order_units as (

    select
        shop_domain,
        order_id,
        sum(quantity) as unit_count
    from order_lines
    group by shop_domain, order_id

),

orders_enriched as (

    select
        cast({{ to_utc('orders.created_at') }} as date) as order_date,
        -- a missing channel is still a channel to report on, and keeps the grain key non-null
        coalesce(orders.channel, 'unknown') as channel,
        orders.financial_status,
        orders.currency,
        coalesce(order_units.unit_count, 0) as unit_count,
        orders.total_price,
        orders.total_discounts,
        orders.total_shipping,
        orders.total_tax,
        orders.is_cancelled
    from orders
    left join order_units
        on orders.shop_domain = order_units.shop_domain
        and orders.order_id = order_units.order_id

),

daily as (

    select
        order_date,
        channel,
        financial_status,
        currency,
        -- explicit casts: DuckDB widens integer sums to HUGEINT and decimal sums to 38 digits
        cast(count(*) as bigint) as order_count,
        cast(sum(unit_count) as bigint) as unit_count,
        cast(sum(total_price) as numeric(28, 4)) as gross_sales,
        cast(sum(total_discounts) as numeric(28, 4)) as discounts,
        cast(sum(total_shipping) as numeric(28, 4)) as shipping,
        cast(sum(total_tax) as numeric(28, 4)) as tax,
        cast(sum(case when is_cancelled then 1 else 0 end) as bigint) as cancelled_count
    from orders_enriched
    group by order_date, channel, financial_status, currency

)

select * from daily
