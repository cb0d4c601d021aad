{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of',
        on_schema_change='sync_all_columns'
    )
}}
-- One row per variance between what the store charged, what the 3PL shipped and what the carrier billed,
-- per as-of day: each daily partition (a build with var `as_of`) replaces that day's snapshot and keeps
-- the others, so finance sees when a variance appeared and when it went away.
-- Vars: `as_of` (date, default today; see the reconciliation_as_of macro): what was known by that day's
-- end; `reconciliation_promise_days` (default 5) is the promise: created_at + that many days.
-- `amount` is the money at stake, positive, in the order's (or the invoice's) currency.
{%- set as_of = reconciliation_as_of() %}
{%- set promise_days = var('reconciliation_promise_days', 5) | int %}
with orders as (

    select
        *,
        cast({{ to_utc('created_at') }} as date) + {{ promise_days }} as promised_by
    from {{ ref('int_reconciliation__orders') }}

),

payments as (

    select * from {{ ref('int_reconciliation__order_payments') }}

),

shipments as (

    select * from {{ ref('int_reconciliation__shipments_by_order') }}

),

quantities as (

    select * from {{ ref('int_reconciliation__sku_quantities') }}

),

order_units as (

    select
        shop_domain,
        order_id,
        sum(expected_qty) as expected_qty,
        sum(fulfilled_qty) as fulfilled_qty,
        sum(fulfilled_qty * coalesce(unit_price, 0)) as fulfilled_value
    from quantities
    group by shop_domain, order_id

),

fulfillments as (

    select shop_domain, order_id, min(fulfilled_at) as first_fulfilled_at
    from {{ ref('stg_store__fulfillments') }}
    where is_effective
    group by shop_domain, order_id

),

order_status as (

    select
        orders.shop_domain,
        orders.order_id,
        orders.order_name,
        orders.promised_by,
        orders.is_cancelled,
        orders.is_tpl_order,
        -- captured net of refunds; orders with no landed transactions fall back on the store's status
        case
            when payments.order_id is not null then payments.net_captured
            when orders.financial_status in ('paid', 'partially_refunded') then orders.total_price
            else 0
        end as net_paid,
        coalesce(order_units.expected_qty, 0) as expected_qty,
        coalesce(order_units.fulfilled_qty, 0) as fulfilled_qty,
        coalesce(order_units.fulfilled_value, 0) as fulfilled_value,
        coalesce(shipments.live_shipment_count, 0) as live_shipment_count,
        shipments.first_ship_date,
        fulfillments.first_fulfilled_at
    from orders
    left join payments
        on orders.shop_domain = payments.shop_domain and orders.order_id = payments.order_id
    left join order_units
        on orders.shop_domain = order_units.shop_domain and orders.order_id = order_units.order_id
    left join shipments
        on orders.shop_domain = shipments.shop_domain and orders.order_id = shipments.order_id
    left join fulfillments
        on orders.shop_domain = fulfillments.shop_domain and orders.order_id = fulfillments.order_id

),

unshipped_paid_order as (

    select
        shop_domain,
        order_id,
        'unshipped_paid_order' as variance_type,
        order_id as variance_ref,
        net_paid as amount,
        'paid ' || cast(cast(net_paid as numeric(20, 2)) as varchar) || ', nothing shipped or fulfilled; promised by '
            || cast(promised_by as varchar) as detail,
        promised_by as first_seen
    from order_status
    where not is_cancelled
        and net_paid > 0
        and expected_qty > 0
        and live_shipment_count = 0
        and fulfilled_qty = 0
        and promised_by < cast('{{ as_of }}' as date)

),

fulfilled_without_shipment as (

    select
        shop_domain,
        order_id,
        'fulfilled_without_shipment' as variance_type,
        order_id as variance_ref,
        fulfilled_value as amount,
        'store fulfilled ' || cast(fulfilled_qty as varchar) || ' units, the 3PL shipped none' as detail,
        cast({{ to_utc('first_fulfilled_at') }} as date) as first_seen
    from order_status
    where fulfilled_qty > 0
        and live_shipment_count = 0
        and is_tpl_order

),

quantity_mismatch as (

    select
        quantities.shop_domain,
        quantities.order_id,
        'quantity_mismatch' as variance_type,
        quantities.order_id || ':' || quantities.sku as variance_ref,
        abs(quantities.shipped_qty - quantities.tpl_expected_qty) * coalesce(quantities.unit_price, 0) as amount,
        'sku ' || quantities.sku || ': expected ' || cast(quantities.tpl_expected_qty as varchar)
            || ' from the 3PL, 3PL shipped ' || cast(quantities.shipped_qty as varchar) as detail,
        order_status.first_ship_date as first_seen
    from quantities
    inner join order_status
        on quantities.shop_domain = order_status.shop_domain
        and quantities.order_id = order_status.order_id
    where order_status.live_shipment_count > 0
        and quantities.shipped_qty <> quantities.tpl_expected_qty

),

shipment_without_order as (

    select
        shipments.shop_domain,
        cast(null as varchar) as order_id,
        'shipment_without_order' as variance_type,
        shipments.shipment_id as variance_ref,
        coalesce(shipments.shipment_cost, 0) as amount,
        '3PL shipment ' || shipments.shipment_id || ' for unknown order key '
            || coalesce(shipments.order_id, '(none)') || ', tracking '
            || coalesce(shipments.tracking_number, '(none)') as detail,
        shipments.ship_date as first_seen
    from {{ ref('stg_3pl__shipments') }} as shipments
    left join orders
        on shipments.shop_domain = orders.shop_domain
        and shipments.order_id = orders.order_id
    where not shipments.is_voided
        and orders.order_id is null

),

charges as (

    select * from {{ ref('int_reconciliation__carrier_charges') }}

),

charge_without_shipment as (

    select
        shop_domain,
        order_id,
        'charge_without_shipment' as variance_type,
        invoice_number || ':' || cast(line_no as varchar) as variance_ref,
        amount,
        charge_type || ' charge on invoice ' || invoice_number || ' for '
            || case when label_state = 'voided' then 'voided label ' else 'unknown label ' end
            || tracking_number as detail,
        invoice_date as first_seen
    from charges
    where label_state <> 'live'

),

duplicate_charge as (

    select
        shop_domain,
        order_id,
        'duplicate_charge' as variance_type,
        invoice_number || ':' || cast(line_no as varchar) as variance_ref,
        amount,
        charge_type || ' charge of ' || cast(cast(amount as numeric(20, 2)) as varchar)
            || ' for label ' || tracking_number
            || ' billed again on invoice ' || invoice_number as detail,
        invoice_date as first_seen
    from charges
    where label_state = 'live'
        and is_duplicate

),

labels as (

    select * from {{ ref('int_reconciliation__label_charges') }}

),

weight_overbilled as (

    select
        shop_domain,
        order_id,
        'weight_overbilled' as variance_type,
        tracking_number as variance_ref,
        -- the share of the base charge paid for weight that was never shipped
        round(base_amount * (billed_weight_kg - shipped_weight_kg) / billed_weight_kg, 2) as amount,
        'label ' || tracking_number || ' billed '
            || cast(cast(billed_weight_kg as numeric(14, 3)) as varchar) || ' kg, shipped '
            || cast(cast(shipped_weight_kg as numeric(14, 3)) as varchar) || ' kg' as detail,
        first_invoice_date as first_seen
    from labels
    where billed_weight_kg > shipped_weight_kg * 1.1

),

unexpected_surcharge as (

    select
        charges.shop_domain,
        charges.order_id,
        'unexpected_surcharge' as variance_type,
        charges.invoice_number || ':' || cast(charges.line_no as varchar) as variance_ref,
        charges.amount,
        charges.charge_type || ' surcharge on label ' || charges.tracking_number
            || ' not in its quoted cost '
            || coalesce(cast(cast(labels.shipment_cost as numeric(20, 2)) as varchar), '(none)') as detail,
        charges.invoice_date as first_seen
    from charges
    inner join labels
        on charges.tracking_number = labels.tracking_number
    where charges.label_state = 'live'
        and not charges.is_duplicate
        and not charges.is_standard_charge
        -- a surcharge the 3PL quoted is inside the label cost; one that pushes the bill past it was not planned
        and labels.billed_amount > coalesce(labels.shipment_cost, 0)

),

refund_not_reflected as (

    select
        shop_domain,
        order_id,
        'refund_not_reflected' as variance_type,
        refund_id as variance_ref,
        refund_gap as amount,
        'refund ' || refund_id || ' owes ' || cast(cast(refund_due as numeric(20, 2)) as varchar)
            || ', refund transactions paid '
            || cast(cast(refunded_amount as numeric(20, 2)) as varchar) as detail,
        cast({{ to_utc('refunded_at') }} as date) as first_seen
    from {{ ref('int_reconciliation__refunds_settled') }}
    where refund_gap > 0
        and is_comparable

),

variances as (

    select * from unshipped_paid_order
    union all select * from fulfilled_without_shipment
    union all select * from quantity_mismatch
    union all select * from shipment_without_order
    union all select * from charge_without_shipment
    union all select * from duplicate_charge
    union all select * from weight_overbilled
    union all select * from unexpected_surcharge
    union all select * from refund_not_reflected

)

select
    variance_type || ':' || variance_ref as variance_key,
    shop_domain,
    order_id,
    variance_type,
    cast(amount as numeric(20, 4)) as amount,
    detail,
    first_seen,
    -- first seen on (or after) the as-of day: new today; before it: still open
    case when first_seen >= cast('{{ as_of }}' as date) then 'new' else 'open' end as status,
    cast('{{ as_of }}' as date) as as_of
from variances
