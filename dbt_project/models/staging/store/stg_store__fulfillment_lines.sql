-- Line items covered by each store fulfillment. One row per (shop_domain, fulfillment_id, line_id).
with source as (

    select * from {{ source('reconciliation', 'store_fulfillment_lines') }}

),

known as (

    -- only lines of the fulfillments made by the as-of day
    select shop_domain, fulfillment_id from {{ ref('stg_store__fulfillments') }}

)

select
    shop_domain,
    order_id,
    fulfillment_id,
    line_id,
    sku,
    quantity
from source
where exists (
    select 1 from known
    where known.shop_domain = source.shop_domain and known.fulfillment_id = source.fulfillment_id
)
