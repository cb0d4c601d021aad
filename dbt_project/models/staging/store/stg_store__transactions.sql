-- Order transactions processed by the as-of day, renamed, with the money they moved. One row per (shop_domain, transaction_id).
with source as (

    select * from {{ source('reconciliation', 'store_transactions') }}

)

select
    shop_domain,
    order_id,
    transaction_id,
    refund_id,
    kind as transaction_kind,
    status as transaction_status,
    cast(amount as numeric(20, 4)) as amount,
    currency,
    gateway,
    processed_at,
    -- money actually taken from the customer / actually given back
    (kind in ('sale', 'capture') and status = 'success') as is_capture,
    (kind = 'refund' and status = 'success') as is_refund
from source
where coalesce({{ known_by_as_of('processed_at') }}, true)  -- an undated transaction counts from the start
