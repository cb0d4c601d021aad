{{ config(materialized='table') }}
-- Charges per live 3PL label, duplicates left out: billed weight and amounts by kind against what the
-- label was quoted and weighed at. One row per tracking number with a live label.
with charges as (

    select * from {{ ref('int_reconciliation__carrier_charges') }}
    where label_state = 'live' and not is_duplicate

)

select
    tracking_number,
    max(shop_domain) as shop_domain,
    max(shipment_id) as shipment_id,
    max(order_id) as order_id,
    max(shipped_weight_kg) as shipped_weight_kg,
    max(shipment_cost) as shipment_cost,
    max(case when charge_type = 'base' then billed_weight_kg end) as billed_weight_kg,
    cast(sum(case when charge_type = 'base' then amount else 0 end) as numeric(20, 4)) as base_amount,
    cast(sum(case when is_standard_charge then amount else 0 end) as numeric(20, 4)) as standard_amount,
    cast(sum(case when is_standard_charge then 0 else amount end) as numeric(20, 4)) as surcharge_amount,
    cast(sum(amount) as numeric(20, 4)) as billed_amount,
    min(invoice_date) as first_invoice_date
from charges
group by tracking_number
