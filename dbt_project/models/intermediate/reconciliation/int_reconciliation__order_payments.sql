{{ config(materialized='table') }}
-- Money per order: what the store captured and what it gave back. One row per (shop_domain, order_id)
-- that has any transaction.
with transactions as (

    select * from {{ ref('stg_store__transactions') }}

)

select
    shop_domain,
    order_id,
    cast(sum(case when is_capture then amount else 0 end) as numeric(20, 4)) as captured_amount,
    cast(sum(case when is_refund then amount else 0 end) as numeric(20, 4)) as refunded_amount,
    cast(sum(case when is_capture then amount when is_refund then -amount else 0 end) as numeric(20, 4))
        as net_captured
from transactions
group by shop_domain, order_id
