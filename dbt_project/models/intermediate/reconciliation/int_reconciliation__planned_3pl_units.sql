-- Units of each order and SKU that its plan in force puts at locations of kind `3pl`, i.e. what it was
-- handed off to ship; the store's other locations (own DCs, stores, dropship suppliers) ship the rest.
-- Orders without a plan (planned outside the pipeline, or the file CLI) are absent: the 3PL is expected
-- to ship all they order.
-- One row per (shop_domain, order_id, sku) of a planned order; a SKU planned only elsewhere has 0.
select
    shop_domain,
    order_id,
    sku,
    cast(sum(case when location_kind = '3pl' then quantity else 0 end) as bigint) as tpl_planned_qty
from {{ ref('stg_warehouse__planned_shipment_lines') }}
group by shop_domain, order_id, sku
