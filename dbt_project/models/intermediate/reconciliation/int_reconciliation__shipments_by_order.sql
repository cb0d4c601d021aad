{{ config(materialized='table') }}
-- 3PL shipments summed per order key. One row per (shop_domain, order_id) the 3PL shipped or voided for.
with shipments as (

    select * from {{ ref('stg_3pl__shipments') }}

)

select
    shop_domain,
    order_id,
    cast(sum(case when is_voided then 0 else 1 end) as bigint) as live_shipment_count,
    cast(sum(case when is_voided then 1 else 0 end) as bigint) as voided_shipment_count,
    cast(sum(case when is_voided then 0 else weight_kg end) as numeric(14, 4)) as shipped_weight_kg,
    cast(sum(case when is_voided then 0 else coalesce(shipment_cost, 0) end) as numeric(20, 4)) as label_cost,
    min(case when is_voided then null else ship_date end) as first_ship_date
from shipments
where order_id is not null
group by shop_domain, order_id
