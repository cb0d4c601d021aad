{{ config(materialized='table') }}
-- Each store refund against the refund transactions that paid it out. One row per (shop_domain, refund_id).
-- Transactions in another currency than the refund (presentment vs shop money) can not be compared:
-- such a refund is marked not comparable rather than guessed at.
with refunds as (

    select * from {{ ref('stg_store__refunds') }}

),

paid_out as (

    select
        transactions.shop_domain,
        transactions.refund_id,
        sum(case when transactions.currency = refunds.currency then transactions.amount else 0 end)
            as refunded_amount,
        sum(case when transactions.currency = refunds.currency then 0 else 1 end) as foreign_transactions
    from {{ ref('stg_store__transactions') }} as transactions
    inner join refunds
        on transactions.shop_domain = refunds.shop_domain
        and transactions.refund_id = refunds.refund_id
    where transactions.is_refund
    group by transactions.shop_domain, transactions.refund_id

)

select
    refunds.shop_domain,
    refunds.order_id,
    refunds.refund_id,
    refunds.refunded_at,
    refunds.currency,
    refunds.refund_due,
    cast(coalesce(paid_out.refunded_amount, 0) as numeric(20, 4)) as refunded_amount,
    coalesce(paid_out.foreign_transactions, 0) = 0 as is_comparable,
    cast(refunds.refund_due - coalesce(paid_out.refunded_amount, 0) as numeric(20, 4)) as refund_gap
from refunds
left join paid_out
    on refunds.shop_domain = paid_out.shop_domain
    and refunds.refund_id = paid_out.refund_id
