-- Refunded line items. One row per (shop_domain, refund_id, refund_line_id).
with source as (

    select * from {{ source('reconciliation', 'store_refund_lines') }}

),

known as (

    -- only lines of the refunds made by the as-of day
    select shop_domain, refund_id from {{ ref('stg_store__refunds') }}

)

select
    shop_domain,
    order_id,
    refund_id,
    refund_line_id,
    line_id,
    sku,
    quantity,
    restock_type,
    -- `cancel` restocks units that never left: they are no longer expected to ship
    coalesce(restock_type = 'cancel', false) as is_cancellation,
    cast(subtotal as numeric(20, 4)) as subtotal,
    cast(total_tax as numeric(20, 4)) as total_tax
from source
where exists (
    select 1 from known
    where known.shop_domain = source.shop_domain and known.refund_id = source.refund_id
)
