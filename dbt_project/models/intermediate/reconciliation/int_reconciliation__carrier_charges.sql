{{ config(materialized='table') }}
-- Every carrier charge line with the 3PL label it bills (matched on tracking number; a live label wins
-- over a voided one) and whether it repeats an earlier identical charge. One row per (invoice_number, line_no).
with charges as (

    select * from {{ ref('stg_carrier__invoice_lines') }}

),

labels as (

    select
        tracking_number,
        shop_domain,
        shipment_id,
        order_id,
        is_voided,
        weight_kg,
        shipment_cost,
        row_number() over (partition by tracking_number order by is_voided, shipment_id) as preference
    from {{ ref('stg_3pl__shipments') }}
    where tracking_number is not null

),

matched as (

    select
        charges.*,
        labels.shop_domain,
        labels.shipment_id,
        labels.order_id,
        labels.weight_kg as shipped_weight_kg,
        labels.shipment_cost,
        case
            when labels.shipment_id is null then 'unknown'
            when labels.is_voided then 'voided'
            else 'live'
        end as label_state,
        -- the same charge (label, type, amount) billed again, on this or a later invoice
        row_number() over (
            partition by charges.tracking_number, charges.charge_type, charges.amount
            order by charges.invoice_date, charges.invoice_number, charges.line_no
        ) as occurrence
    from charges
    left join labels
        on charges.tracking_number = labels.tracking_number
        and labels.preference = 1

)

select
    *,
    occurrence > 1 as is_duplicate
from matched
