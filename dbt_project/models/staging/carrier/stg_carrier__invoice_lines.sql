-- Carrier invoice charge lines invoiced by the as-of day, renamed and typed. One row per (invoice_number, line_no).
with source as (

    select * from {{ source('reconciliation', 'carrier_invoice_lines') }}

)

select
    invoice_number,
    line_no,
    invoice_date,
    tracking_number,
    service,
    cast(billed_weight_kg as numeric(14, 4)) as billed_weight_kg,
    charge_type,
    cast(amount as numeric(20, 4)) as amount,
    currency,
    -- the charges a label is quoted with; anything else is a surcharge
    charge_type in ('base', 'fuel', 'residential') as is_standard_charge
from source
where {{ dated_by_as_of('invoice_date') }}
