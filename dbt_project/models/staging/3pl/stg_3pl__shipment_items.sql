-- Items of each 3PL shipment. One row per (shop_domain, shipment_id, item_no).
with source as (

    select * from {{ source('reconciliation', 'tpl_shipment_items') }}

),

known as (

    -- only items of the shipments made by the as-of day
    select shop_domain, shipment_id from {{ ref('stg_3pl__shipments') }}

)

select
    shop_domain,
    shipment_id,
    item_no,
    sku,
    quantity
from source
where exists (
    select 1 from known
    where known.shop_domain = source.shop_domain and known.shipment_id = source.shipment_id
)
