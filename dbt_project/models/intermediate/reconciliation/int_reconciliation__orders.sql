-- Store orders placed by the as-of day, and whether the 3PL was to ship each one. In the live pipeline
-- an order is the 3PL's once its handoff went through the gateway, or once the 3PL made a label for it
-- (handed off by other means); the store's own locations ship the rest, and their fulfillments are not
-- 3PL variances. Var `reconciliation_tpl_scope: all_orders` (the file CLI, whose orders are all the
-- 3PL's) makes every order the 3PL's. One row per (shop_domain, order_id).
{%- set scope = reconciliation_tpl_scope() %}
with orders as (

    select * from {{ ref('stg_warehouse__orders') }}
    where {{ known_by_as_of('created_at') }}

),

tpl_orders as (

    select shop_domain, order_id from {{ ref('stg_gateway__tpl_handoffs') }}
    union
    select shop_domain, order_id from {{ ref('stg_3pl__shipments') }}
    where order_id is not null

)

select
    orders.*,
    {% if scope == 'all_orders' -%}
    true
    {%- else -%}
    tpl_orders.order_id is not null
    {%- endif %} as is_tpl_order
from orders
left join tpl_orders
    on orders.shop_domain = tpl_orders.shop_domain
    and orders.order_id = tpl_orders.order_id
