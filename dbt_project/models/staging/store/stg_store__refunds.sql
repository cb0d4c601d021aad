-- Store refunds made by the as-of day and what each one owes the customer. One row per (shop_domain, refund_id).
with source as (

    select * from {{ source('reconciliation', 'store_refunds') }}

)

select
    shop_domain,
    order_id,
    refund_id,
    created_at as refunded_at,
    note as refund_note,
    currency,
    cast(lines_amount as numeric(20, 4)) as lines_amount,
    cast(shipping_amount as numeric(20, 4)) as shipping_amount,
    cast(lines_amount + shipping_amount as numeric(20, 4)) as refund_due
from source
where {{ known_by_as_of('created_at') }}
