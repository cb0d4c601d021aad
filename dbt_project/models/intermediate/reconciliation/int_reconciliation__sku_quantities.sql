{{ config(materialized='table') }}
-- Units per order and SKU as each party sees them: ordered and cancelled (store order and refunds),
-- fulfilled (store fulfillments), shipped (live 3PL shipments), and how many of them the 3PL should ship
-- (tpl_expected_qty: the plan's 3PL units; the store's own locations ship the rest). One row per
-- (shop_domain, order_id, sku).
-- Lines without a SKU are keyed `line:<line_id>` so they never merge with another line.
with order_lines as (

    select * from {{ ref('int_reconciliation__order_lines') }}
    where requires_shipping

),

line_keys as (

    select
        shop_domain,
        order_id,
        line_id,
        coalesce(sku, 'line:' || line_id) as sku,
        quantity,
        unit_price
    from order_lines

),

cancelled as (

    select
        refund_lines.shop_domain,
        refund_lines.order_id,
        coalesce(line_keys.sku, refund_lines.sku, 'line:' || refund_lines.line_id) as sku,
        refund_lines.quantity
    from {{ ref('stg_store__refund_lines') }} as refund_lines
    left join line_keys
        on refund_lines.shop_domain = line_keys.shop_domain
        and refund_lines.order_id = line_keys.order_id
        and refund_lines.line_id = line_keys.line_id
    where refund_lines.is_cancellation

),

fulfilled as (

    select
        fulfillment_lines.shop_domain,
        fulfillment_lines.order_id,
        coalesce(line_keys.sku, fulfillment_lines.sku, 'line:' || fulfillment_lines.line_id) as sku,
        fulfillment_lines.quantity
    from {{ ref('stg_store__fulfillment_lines') }} as fulfillment_lines
    inner join {{ ref('stg_store__fulfillments') }} as fulfillments
        on fulfillment_lines.shop_domain = fulfillments.shop_domain
        and fulfillment_lines.fulfillment_id = fulfillments.fulfillment_id
    left join line_keys
        on fulfillment_lines.shop_domain = line_keys.shop_domain
        and fulfillment_lines.order_id = line_keys.order_id
        and fulfillment_lines.line_id = line_keys.line_id
    where fulfillments.is_effective

),

shipped as (

    select
        shipments.shop_domain,
        shipments.order_id,
        coalesce(items.sku, '(no sku)') as sku,
        items.quantity
    from {{ ref('stg_3pl__shipment_items') }} as items
    inner join {{ ref('stg_3pl__shipments') }} as shipments
        on items.shop_domain = shipments.shop_domain
        and items.shipment_id = shipments.shipment_id
    where not shipments.is_voided
        and shipments.order_id is not null

),

movements as (

    select shop_domain, order_id, sku, quantity as ordered_qty, 0 as cancelled_qty, 0 as fulfilled_qty,
        0 as shipped_qty, unit_price
    from line_keys
    union all
    select shop_domain, order_id, sku, 0, quantity, 0, 0, null from cancelled
    union all
    select shop_domain, order_id, sku, 0, 0, quantity, 0, null from fulfilled
    union all
    select shop_domain, order_id, sku, 0, 0, 0, quantity, null from shipped

),

totals as (

    select
        shop_domain,
        order_id,
        sku,
        cast(sum(ordered_qty) as bigint) as ordered_qty,
        cast(sum(cancelled_qty) as bigint) as cancelled_qty,
        cast(sum(ordered_qty) - sum(cancelled_qty) as bigint) as expected_qty,
        cast(sum(fulfilled_qty) as bigint) as fulfilled_qty,
        cast(sum(shipped_qty) as bigint) as shipped_qty,
        cast(max(unit_price) as numeric(20, 4)) as unit_price
    from movements
    group by shop_domain, order_id, sku

),

planned_orders as (

    select distinct shop_domain, order_id from {{ ref('int_reconciliation__planned_3pl_units') }}

)

select
    totals.*,
    -- what the 3PL should ship: the plan's 3PL units (never more than still expected), or all of it unplanned
    -- (and all of every order when the scope is all_orders)
    cast(case
        when planned_orders.order_id is null or '{{ reconciliation_tpl_scope() }}' = 'all_orders'
            then totals.expected_qty
        else least(coalesce(planned.tpl_planned_qty, 0), totals.expected_qty)
    end as bigint) as tpl_expected_qty
from totals
left join planned_orders
    on totals.shop_domain = planned_orders.shop_domain
    and totals.order_id = planned_orders.order_id
left join {{ ref('int_reconciliation__planned_3pl_units') }} as planned
    on totals.shop_domain = planned.shop_domain
    and totals.order_id = planned.order_id
    and totals.sku = planned.sku
