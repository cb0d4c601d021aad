-- Shipping lines of each order. One row per (shop_domain, order_id, shipping_line_id).
with source as (

    select * from {{ source('reconciliation', 'store_shipping_lines') }}

)

select
    shop_domain,
    order_id,
    shipping_line_id,
    code as shipping_code,
    title as shipping_title,
    currency,
    cast(price as numeric(20, 4)) as price,
    -- what the customer paid after shipping discounts
    cast(discounted_price as numeric(20, 4)) as paid
from source
