-- The planned cost of shipping each order: the shipments of its latest decision's plan.
-- One row per (shop_domain, order_id). planned_shipments repeats a shipment's cost on each of its
-- lines, so the cost is taken once per (location, service).
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

),

shipments as (

    select
        planned.shop_domain,
        planned.order_id,
        planned.location_id,
        planned.service_id,
        max(planned.shipment_cost) as shipment_cost
    from planned
    inner join decisions
        on planned.shop_domain = decisions.shop_domain
        and planned.order_id = decisions.order_id
        and planned.trace_id = decisions.trace_id
        and decisions.recency = 1
    group by planned.shop_domain, planned.order_id, planned.location_id, planned.service_id

)

select
    shop_domain,
    order_id,
    cast(count(*) as bigint) as planned_shipment_count,
    -- shipment_cost is a float in the plan: round to cents on the way in
    cast(round(cast(sum(shipment_cost) as numeric(20, 4)), 2) as numeric(20, 4)) as planned_cost
from shipments
group by shop_domain, order_id
