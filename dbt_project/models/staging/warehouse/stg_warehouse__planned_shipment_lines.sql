-- The lines of each order's plan in force: the planned shipments of its latest decision.
-- One row per (shop_domain, order_id, location_id, service_id, sku); the shipment's cost repeats on each line.
with decisions as (

    select
        shop_domain,
        order_id,
        trace_id,
        row_number() over (partition by shop_domain, order_id order by decided_at desc, trace_id desc) as recency
    from {{ source('reconciliation', 'order_decisions') }}

),

planned as (

    select * from {{ source('reconciliation', 'planned_shipments') }}

)

select
    planned.shop_domain,
    planned.order_id,
    planned.location_id,
    -- who runs the location (own_dc, 3pl, store, dropship), from the network when the plan was made
    planned.location_kind,
    planned.service_id,
    planned.sku,
    planned.quantity,
    planned.shipment_cost
from planned
inner join decisions
    on planned.shop_domain = decisions.shop_domain
    and planned.order_id = decisions.order_id
    and planned.trace_id = decisions.trace_id
    and decisions.recency = 1
