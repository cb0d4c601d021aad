-- The planned cost of shipping each order: the shipments of its plan in force.
-- One row per (shop_domain, order_id). A shipment's cost repeats on each of its lines, so it is taken
-- once per (location, service).
with shipments as (

    select
        shop_domain,
        order_id,
        location_id,
        service_id,
        max(shipment_cost) as shipment_cost
    from {{ ref('stg_warehouse__planned_shipment_lines') }}
    group by shop_domain, order_id, location_id, service_id

)

select
    shop_domain,
    order_id,
    cast(count(*) as bigint) as planned_shipment_count,
    -- shipment_cost is a float in the plan: round to cents on the way in
    cast(round(cast(sum(shipment_cost) as numeric(20, 4)), 2) as numeric(20, 4)) as planned_cost
from shipments
group by shop_domain, order_id
