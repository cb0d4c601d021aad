-- Line items covered by each store fulfillment. One row per (shop_domain, fulfillment_id, line_id).
with source as (

    select * from {{ source('reconciliation', 'store_fulfillment_lines') }}

)

select
    shop_domain,
    order_id,
    fulfillment_id,
    line_id,
    sku,
    quantity
from source
