-- Order lines, renamed and typed for analytics. One row per (shop_domain, order_id, line_id).
with source as (

    select * from {{ source('warehouse', 'order_lines') }}

),

renamed as (

    select
        -- ids
        shop_domain,
        order_id,
        line_id,
        product_id,
        variant_id,

        -- descriptors
        position as line_position,
        sku,
        title as product_title,
        variant_title,
        vendor,
        currency,
        requires_shipping,
        is_gift_card,

        -- quantities and money (numeric, never float)
        quantity,
        cast(unit_price as numeric(20, 4)) as unit_price,
        cast(total_discount as numeric(20, 4)) as total_discount,
        cast(line_total as numeric(20, 4)) as line_total,

        order_updated_at

    from source

)

select * from renamed
