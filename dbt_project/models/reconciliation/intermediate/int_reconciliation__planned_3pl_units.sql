{{ config(materialized='view') }}
-- Units of each order and SKU that its plan in force (the latest decision's) puts at the 3PL, i.e. what
-- it was handed off to ship; the store's own locations (not `3PL*`) ship the rest. Orders without a plan
-- (planned outside the pipeline, or the file CLI) are absent: the 3PL is expected to ship all they order.
-- One row per (shop_domain, order_id, sku) of a planned order; a SKU planned only at own locations has 0.
with decisions as (

    select
        shop_domain,
        order_id,
        trace_id,
        row_number() over (partition by shop_domain, order_id order by decided_at desc, trace_id desc) as recency
    from {{ source('reconciliation', 'order_decisions') }}

),

planned as (

    select planned.*
    from {{ source('reconciliation', 'planned_shipments') }} as planned
    inner join decisions
        on planned.shop_domain = decisions.shop_domain
        and planned.order_id = decisions.order_id
        and planned.trace_id = decisions.trace_id
        and decisions.recency = 1

)

select
    shop_domain,
    order_id,
    sku,
    cast(sum(case when upper(location_id) like '3PL%' then quantity else 0 end) as bigint) as tpl_planned_qty
from planned
group by shop_domain, order_id, sku
