"""Warehouse tables, as SQLAlchemy Core metadata.

Money is ``NUMERIC(20, 4)`` (never float: 4 places cover every ISO 4217 minor unit). Timestamps are
stored in UTC. Ids from the store are text: Shopify ids are 64-bit and must survive any client.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

MONEY = Numeric(20, 4)

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

# Append-only landing: every (order, version) the store ever sent us, payload verbatim.
raw_order_events = Table(
    "raw_order_events",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    # "<order_id>@<updated_at>" when the payload names both, else "sha256:<payload hash>".
    Column("event_key", String(300), nullable=False),
    Column("order_id", String(40)),
    Column("updated_at", String(64)),  # as the store sent it
    Column("source_api", String(16), nullable=False),  # graphql | rest
    Column("payload", Text, nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=False),
    PrimaryKeyConstraint("shop_domain", "event_key", name="pk_raw_order_events"),
)

# Canonical orders: the latest version of each order.
orders = Table(
    "orders",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("order_gid", String(80)),
    Column("order_name", String(64), nullable=False),
    Column("order_number", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("processed_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancel_reason", String(40)),
    Column("closed_at", DateTime(timezone=True)),
    Column("email", String(320)),
    Column("customer_id", String(40)),
    Column("currency", String(3), nullable=False),
    Column("presentment_currency", String(3), nullable=False),
    Column("subtotal_price", MONEY, nullable=False),
    Column("total_discounts", MONEY, nullable=False),
    Column("total_shipping", MONEY, nullable=False),
    Column("total_tax", MONEY, nullable=False),
    Column("total_price", MONEY, nullable=False),
    Column("presentment_total_price", MONEY, nullable=False),
    Column("line_items_total", MONEY, nullable=False),  # sum of line totals (after line discounts)
    Column("line_count", Integer, nullable=False),
    Column("unit_count", Integer, nullable=False),
    Column("financial_status", String(32), nullable=False),
    Column("fulfillment_status", String(32), nullable=False),
    Column("source_name", String(64)),  # the sales channel
    Column("tags", Text, nullable=False),  # comma-separated, as Shopify shows them
    Column("note", Text),
    Column("shipping_country_code", String(2)),
    Column("billing_country_code", String(2)),
    Column("is_test", Boolean, nullable=False),
    Column("source_event_key", String(300), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=False),
    PrimaryKeyConstraint("shop_domain", "order_id", name="pk_orders"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("line_id", String(40), nullable=False),
    Column("position", Integer, nullable=False),
    Column("sku", String(255)),
    Column("title", Text, nullable=False),
    Column("variant_title", Text),
    Column("vendor", String(255)),
    Column("product_id", String(40)),
    Column("variant_id", String(40)),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", MONEY, nullable=False),
    Column("total_discount", MONEY, nullable=False),
    Column("line_total", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("requires_shipping", Boolean, nullable=False),
    Column("is_gift_card", Boolean, nullable=False),
    Column("order_updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_domain", "order_id", "line_id", name="pk_order_lines"),
)

# Payloads that failed validation: kept verbatim with the reason, never dropped.
quarantined_orders = Table(
    "quarantined_orders",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("event_key", String(300), nullable=False),
    Column("order_id", String(40)),
    Column("order_name", String(64)),
    Column("updated_at", String(64)),
    Column("reason", Text, nullable=False),  # first error, "field.path: message"
    Column("errors", Text, nullable=False),  # JSON list of {"field", "message", "value"}
    Column("payload", Text, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=False),
    PrimaryKeyConstraint("shop_domain", "event_key", name="pk_quarantined_orders"),
)

# What normalization made of each landed event (order, quarantined, superseded, stale). Kept apart
# from raw_order_events so landing stays append-only; an event without a row here is still to do.
normalized_events = Table(
    "normalized_events",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("event_key", String(300), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("normalized_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_domain", "event_key", name="pk_normalized_events"),
)

# High-water mark of each store's incremental fetch (used by `oms ingest --once`).
ingestion_cursors = Table(
    "ingestion_cursors",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("high_water_mark", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_domain", "stream", name="pk_ingestion_cursors"),
    UniqueConstraint("shop_domain", "stream", name="uq_ingestion_cursors"),
)
