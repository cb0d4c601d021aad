-- Ordered vs shipped by the 3PL vs fulfilled in the store, per order and SKU.
-- Grain: one row per (shop_domain, order_id, sku) of a store order. Shipped units of unknown orders
-- are in reconciliation_variances (shipment_without_order), not here.
with quantities as (

    select * from {{ ref('int_reconciliation__sku_quantities') }}

),

orders as (

    select * from {{ ref('int_reconciliation__orders') }}

)

select
    quantities.shop_domain,
    quantities.order_id,
    orders.order_name,
    quantities.sku,
    quantities.unit_price,
    orders.currency,
    quantities.ordered_qty,
    quantities.cancelled_qty,
    quantities.expected_qty,
    quantities.fulfilled_qty,
    quantities.shipped_qty,
    cast(quantities.shipped_qty - quantities.expected_qty as bigint) as shipped_minus_expected,
    case
        when quantities.shipped_qty = quantities.expected_qty then 'matched'
        when quantities.shipped_qty = 0 then 'unshipped'
        when quantities.shipped_qty < quantities.expected_qty then 'short_shipped'
        else 'over_shipped'
    end as line_status
from quantities
inner join orders
    on quantities.shop_domain = orders.shop_domain
    and quantities.order_id = orders.order_id
