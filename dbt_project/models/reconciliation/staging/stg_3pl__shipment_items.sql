-- Items of each 3PL shipment. One row per (shop_domain, shipment_id, item_no).
with source as (

    select * from {{ source('reconciliation', 'tpl_shipment_items') }}

)

select
    shop_domain,
    shipment_id,
    item_no,
    sku,
    quantity
from source
