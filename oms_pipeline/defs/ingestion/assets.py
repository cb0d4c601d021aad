"""Ingestion assets: land order changes verbatim, then validate them into canonical orders."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from itertools import islice

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetOut,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from oms_pipeline.domain.ingestion import advance_high_water_mark, normalize_events, poll_window
from oms_pipeline.domain.orders import parse_time
from oms_pipeline.resources import ShopifyResource, WarehouseResource
from oms_pipeline.storage import schema

INGESTION_GROUP = "order_ingestion"
LANDING_BATCH = 500
NORMALIZE_BATCH = 2000


class OrderWindowConfig(Config):
    """Which changes to fetch. Empty bounds mean: from the stored high-water mark, up to now."""

    updated_at_min: str | None = None
    updated_at_max: str | None = None


@asset(
    group_name=INGESTION_GROUP,
    kinds={"shopify", "python"},
)
def raw_order_events(
    context: AssetExecutionContext,
    config: OrderWindowConfig,
    shopify: ShopifyResource,
    warehouse: WarehouseResource,
) -> MaterializeResult:
    """Order changes fetched from the store, landed verbatim (append-only, one row per order version).

    Fetches the window the sensor asked for (or, from the CLI, everything since the stored
    high-water mark), starting a small overlap earlier so nothing indexed late is skipped; an
    (order, updated_at) already landed is not landed twice.
    """
    wh = warehouse.open()
    shop = shopify.shop_domain
    mark = wh.high_water_mark(shop)
    window = poll_window(
        config.updated_at_min or mark,
        shopify.overlap,
        end=parse_time(config.updated_at_max) if config.updated_at_max else None,
    )
    inserted = duplicates = 0
    stamps: list[str | None] = []
    with shopify.client() as client:
        events = client.iter_order_events(window, api=shopify.api)
        while batch := list(islice(events, LANDING_BATCH)):
            landed = wh.land_events(shop, batch, context.run_id)
            inserted += landed.inserted
            duplicates += landed.duplicates
            stamps.extend(e.updated_at for e in batch)
        stats = client.stats
    new_mark = advance_high_water_mark(mark, stamps)
    if new_mark and new_mark != mark:
        wh.set_high_water_mark(shop, new_mark)
    context.log.info(f"{shop}: landed {inserted} new order versions ({duplicates} already landed)")
    return MaterializeResult(
        metadata={
            "shop_domain": shop,
            "window_start": str(window.start) if window.start else "beginning",
            "window_end": str(window.end) if window.end else "now",
            "events_fetched": inserted + duplicates,
            "events_landed": inserted,
            "events_already_landed": duplicates,
            "high_water_mark": new_mark or "",
            "api": shopify.api,
            "requests": stats.requests,
            "retries": stats.retries,
            "throttled_answers": stats.throttled_answers,
            "paced_wait_s": round(stats.paced_wait_s, 3),
            "query_points_spent": stats.points_spent,
            "dagster/row_count": wh.count(schema.raw_order_events, shop_domain=shop),
        }
    )


@multi_asset(
    outs={
        "orders": AssetOut(
            group_name=INGESTION_GROUP,
            kinds={"python", "pydantic"},
            description="Canonical orders: the latest valid version of each order, with its lines "
            "(tables `orders` and `order_lines`).",
        ),
        "quarantined_orders": AssetOut(
            group_name=INGESTION_GROUP,
            kinds={"python", "pydantic"},
            description="Payloads that failed validation, kept verbatim with a reason naming the field.",
        ),
    },
    deps=[raw_order_events],
)
def normalized_orders(context: AssetExecutionContext, warehouse: WarehouseResource):
    """Validate landed order versions into canonical orders; quarantine the ones that fail.

    A bad payload never fails the run and is never dropped: it lands in ``quarantined_orders`` with
    the order and field named. Older versions are not allowed to overwrite newer ones.
    """
    wh = warehouse.open()
    written = stale = lines = quarantined_new = quarantined_total = 0
    preview: list[dict[str, str]] = []
    for shop in wh.shops_with_events():
        # In slices, oldest versions first: memory stays flat however far behind we are; a version
        # older than the stored one is recognised as stale by the upsert.
        while events := wh.pending_events(shop, limit=NORMALIZE_BATCH):
            batch = normalize_events(events, shop)
            upserted = wh.upsert_orders(batch.orders, context.run_id)
            quarantined_new += wh.quarantine(shop, batch.quarantined, context.run_id)
            wh.mark_normalized(shop, batch.outcomes(), context.run_id)
            written, stale, lines = written + upserted.written, stale + upserted.stale, lines + upserted.lines
            quarantined_total += len(batch.quarantined)
            preview.extend(
                {"order": o.name, "updated_at": o.updated_at.isoformat(), "total": str(o.total_price),
                 "financial": o.financial_status.value, "fulfillment": o.fulfillment_status.value}
                for o, _ in batch.orders[: max(0, 10 - len(preview))]
            )
    reasons = wh.quarantine_reasons(context.run_id)
    yield MaterializeResult(
        asset_key=AssetKey("orders"),
        metadata={
            "orders_written": written,
            "stale_versions_ignored": stale,
            "lines_written": lines,
            "dagster/row_count": wh.count(schema.orders),
            "preview": MetadataValue.md(_markdown_table(preview[:10])) if preview else MetadataValue.text("none"),
        },
    )
    yield MaterializeResult(
        asset_key=AssetKey("quarantined_orders"),
        metadata={
            "quarantined_this_run": quarantined_total,
            "newly_quarantined": quarantined_new,
            "reasons_this_run": MetadataValue.json(reasons),
            "dagster/row_count": wh.count(schema.quarantined_orders),
        },
    )


def _markdown_table(rows: list[dict[str, str]]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(r[h]) for h in header) + " |" for r in rows]
    return "\n".join(lines)
