-- Store fulfillments made by the as-of day, renamed. One row per (shop_domain, fulfillment_id).
with source as (

    select * from {{ source('reconciliation', 'store_fulfillments') }}

),

renamed as (

    select
        shop_domain,
        order_id,
        fulfillment_id,
        status as fulfillment_status,
        -- only a successful fulfillment says the goods left; cancelled or failed ones do not count
        status = 'success' as is_effective,
        created_at as fulfilled_at,
        tracking_company,
        tracking_number
    from source
    where {{ known_by_as_of('created_at') }}

)

select * from renamed
