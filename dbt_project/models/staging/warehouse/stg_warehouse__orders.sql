-- Canonical orders, renamed and typed for analytics. One row per (shop_domain, order_id).
with source as (

    select * from {{ source('warehouse', 'orders') }}

),

renamed as (

    select
        -- ids
        shop_domain,
        order_id,
        order_gid,
        order_name,
        order_number,
        customer_id,

        -- descriptors
        source_name as channel,
        financial_status,
        fulfillment_status,
        cancel_reason,
        currency,
        presentment_currency,
        shipping_country_code,
        billing_country_code,
        tags,
        is_test,

        -- money, in the shop currency; numeric (never float) on both warehouses
        cast(subtotal_price as numeric(20, 4)) as subtotal_price,
        cast(total_discounts as numeric(20, 4)) as total_discounts,
        cast(total_shipping as numeric(20, 4)) as total_shipping,
        cast(total_tax as numeric(20, 4)) as total_tax,
        cast(total_price as numeric(20, 4)) as total_price,
        cast(presentment_total_price as numeric(20, 4)) as presentment_total_price,
        cast(line_items_total as numeric(20, 4)) as line_items_total,
        line_count,
        unit_count,

        -- timestamps (timezone-aware, UTC)
        created_at,
        updated_at,
        processed_at,
        cancelled_at,
        closed_at,
        cancelled_at is not null as is_cancelled,

        -- lineage
        source_event_key,
        ingested_at,
        run_id

    from source

)

select * from renamed
