-- Orders handed off to the 3PL through the gateway by the as-of day (ShipStation createorder, done).
-- One row per (shop_domain, order_id, idempotency_key): a new order version is handed off again.
with source as (

    select * from {{ source('reconciliation', 'writeback_ledger') }}

)

select
    shop_domain,
    order_id,
    idempotency_key,
    external_ref as tpl_order_ref,
    completed_at as handed_off_at
from source
where action = 'handoff_to_3pl'
    and status = 'done'
    and coalesce({{ known_by_as_of('completed_at') }}, {{ known_by_as_of('created_at') }})
