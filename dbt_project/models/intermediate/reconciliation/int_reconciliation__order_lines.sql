-- The lines of the orders placed by the as-of day. One row per (shop_domain, order_id, line_id).
select lines.*
from {{ ref('stg_warehouse__order_lines') }} as lines
inner join {{ ref('int_reconciliation__orders') }} as orders
    on lines.shop_domain = orders.shop_domain
    and lines.order_id = orders.order_id
