-- 3PL shipments (labels) made by the as-of day, renamed. One row per (shop_domain, shipment_id).
with source as (

    select * from {{ source('reconciliation', 'tpl_shipments') }}

)

select
    shop_domain,
    shipment_id,
    -- orderKey is the store order id the order was handed off with
    order_key as order_id,
    order_number,
    tracking_number,
    carrier_code,
    service_code,
    ship_date,
    create_date,
    voided as is_voided,
    cast(weight_kg as numeric(14, 4)) as weight_kg,
    cast(shipment_cost as numeric(20, 4)) as shipment_cost
from source
-- a label exists from its creation; ShipStation dates the shipment by the day it ships
where coalesce({{ dated_by_as_of('ship_date') }}, {{ known_by_as_of('create_date') }}, true)
