-- Shipping per order: what the customer paid, what the plan expected, what the 3PL label cost and
-- what the carrier billed (every charge on the order's labels, duplicates included: that is the bill).
-- Grain: one row per (shop_domain, order_id) of a store order.
with orders as (

    select * from {{ ref('int_reconciliation__orders') }}

),

paid as (

    select shop_domain, order_id, sum(paid) as customer_paid
    from {{ ref('stg_store__shipping_lines') }}
    group by shop_domain, order_id

),

billed as (

    select
        shop_domain,
        order_id,
        sum(amount) as carrier_billed,
        sum(case when is_duplicate then amount else 0 end) as duplicate_billed
    from {{ ref('int_reconciliation__carrier_charges') }}
    where order_id is not null
    group by shop_domain, order_id

),

shipments as (

    select * from {{ ref('int_reconciliation__shipments_by_order') }}

),

planned as (

    select * from {{ ref('stg_warehouse__planned_shipments') }}

),

joined as (

    select
        orders.shop_domain,
        orders.order_id,
        orders.order_name,
        orders.currency,
        -- without landed shipping lines, the order's own shipping total is what was charged
        cast(coalesce(paid.customer_paid, orders.total_shipping) as numeric(20, 4)) as customer_paid,
        cast(planned.planned_cost as numeric(20, 4)) as planned_cost,
        cast(coalesce(shipments.label_cost, 0) as numeric(20, 4)) as label_cost,
        cast(coalesce(billed.carrier_billed, 0) as numeric(20, 4)) as carrier_billed,
        cast(coalesce(billed.duplicate_billed, 0) as numeric(20, 4)) as duplicate_billed,
        coalesce(shipments.live_shipment_count, 0) as live_shipment_count,
        shipments.shipped_weight_kg
    from orders
    left join paid
        on orders.shop_domain = paid.shop_domain and orders.order_id = paid.order_id
    left join billed
        on orders.shop_domain = billed.shop_domain and orders.order_id = billed.order_id
    left join shipments
        on orders.shop_domain = shipments.shop_domain and orders.order_id = shipments.order_id
    left join planned
        on orders.shop_domain = planned.shop_domain and orders.order_id = planned.order_id

)

select
    *,
    cast(customer_paid - carrier_billed as numeric(20, 4)) as shipping_margin,
    cast(carrier_billed - label_cost as numeric(20, 4)) as billed_minus_label,
    cast(carrier_billed - planned_cost as numeric(20, 4)) as billed_minus_planned
from joined
