"""Warehouse tables, as SQLAlchemy Core metadata.

Money is ``NUMERIC(20, 4)`` (never float: 4 places cover every ISO 4217 minor unit). Timestamps are
stored in UTC. Ids from the store are text: Shopify ids are 64-bit and must survive any client.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
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


# -- decisions and writeback (migration 2) -----------------------------------------------------

# One row per decision: what triage made of one order version, with every version that fed it.
order_decisions = Table(
    "order_decisions",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    # Hash of the order content decisions read (not tags, updated_at or our own note lines), so our
    # own writebacks, which bump the store's updated_at, never cause a second decision.
    Column("order_fingerprint", String(64), nullable=False),
    Column("order_name", String(64), nullable=False),
    Column("order_updated_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON [[rule_id, reason], ...]
    Column("hold_reasons", Text, nullable=False),  # JSON [[rule_id, FulfillmentHoldReason], ...]
    Column("rules_version", String(64), nullable=False),
    Column("fraud_score", Float, nullable=False),
    Column("fraud_reasons", Text, nullable=False),  # JSON list of phrases
    Column("fraud_model_version", String(64), nullable=False),
    Column("note_tags", Text, nullable=False),  # JSON list
    Column("notes_engine", String(64), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("plan_summary", Text),
    Column("planned_units", Integer, nullable=False),
    Column("ordered_units", Integer, nullable=False),
    Column("ordered_by_sku", Text, nullable=False),  # JSON {sku: units}, bundles expanded
    Column("trace_id", String(64), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=False),
    PrimaryKeyConstraint("shop_domain", "order_id", "trace_id", name="pk_order_decisions"),
)

# The shipments each decision's fulfillment plan proposes (one row per shipment line).
planned_shipments = Table(
    "planned_shipments",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("trace_id", String(64), nullable=False),
    Column("location_id", String(64), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("sku", String(255), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("stock_at_location", Integer, nullable=False),  # snapshot units the plan drew from
    Column("shipment_cost", Float, nullable=False),
    Column("transit_days", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("run_id", String(64), nullable=False),
)

# Where each order stands now, and every change that brought it there.
order_states = Table(
    "order_states",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("order_fingerprint", String(64), nullable=False),
    Column("order_updated_at", DateTime(timezone=True), nullable=False),  # the version last looked at
    Column("recheck_at", DateTime(timezone=True)),  # when an on-hold order is triaged again
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("trace_id", String(64), nullable=False),
    PrimaryKeyConstraint("shop_domain", "order_id", name="pk_order_states"),
)

order_state_history = Table(
    "order_state_history",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("seq", Integer, nullable=False),  # order of the changes within one trace
    Column("from_state", String(16), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("reason", Text, nullable=False),
    Column("trace_id", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_domain", "order_id", "trace_id", "seq", name="pk_order_state_history"),
)

# Holds on an order's fulfillment order: placed per rule, released by the rule clearing or an operator.
order_holds = Table(
    "order_holds",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("handle", String(64), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("reason", String(40), nullable=False),  # Shopify FulfillmentHoldReason
    Column("placed_by", String(120), nullable=False),
    Column("status", String(16), nullable=False),  # active | released
    Column("fulfillment_order_id", String(120)),  # set once the hold exists in the store
    Column("external_hold_id", String(120)),
    Column("released_at", DateTime(timezone=True)),
    Column("released_by", String(120)),
    Column("release_why", Text),
    Column("released_by_operator", Boolean),
    Column("trace_id", String(64), nullable=False),
    PrimaryKeyConstraint("shop_domain", "order_id", "handle", "placed_at", name="pk_order_holds"),
)

# The writes each decision asks for, as the decision step left them for the writeback step.
writeback_intents = Table(
    "writeback_intents",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("trace_id", String(64), nullable=False),
    Column("action_json", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "seq", name="pk_writeback_intents"),
)

# Every action the gateway considered, written before anything is sent, with its outcome.
audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", String(64), primary_key=True),
    Column("trace_id", String(64), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("workflow", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("idempotency_key", String(64), nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("payload", Text, nullable=False),  # PII-masked
    Column("rules_version", String(64), nullable=False),
    Column("model_versions", String(200), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("detail", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
)

# Exactly-once: one row per idempotency key, ever. A key in state "done" is never sent again.
writeback_ledger = Table(
    "writeback_ledger",
    metadata,
    Column("idempotency_key", String(64), nullable=False),
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("workflow", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # pending | done | rejected
    Column("attempts", Integer, nullable=False),
    Column("external_ref", String(200)),
    Column("detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    UniqueConstraint("idempotency_key", name="uq_writeback_ledger_key"),
)

# Suggestions waiting for a person (assisted mode, or auto mode below the confidence threshold).
review_queue = Table(
    "review_queue",
    metadata,
    Column("review_id", String(16), primary_key=True),
    Column("idempotency_key", String(64), nullable=False),
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("workflow", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("action_json", Text, nullable=False),  # the whole action, to carry out on approval
    Column("why", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("status", String(16), nullable=False),  # pending | approved | rejected
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(120)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_note", Text),
    UniqueConstraint("idempotency_key", name="uq_review_queue_key"),
)

DECISION_TABLES = (order_decisions, planned_shipments, order_states, order_state_history, order_holds,
                   writeback_intents, audit_log, writeback_ledger, review_queue)
