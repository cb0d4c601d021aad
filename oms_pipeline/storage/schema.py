"""Warehouse tables, as SQLAlchemy Core metadata.

Money is ``NUMERIC(20, 4)`` (never float: 4 places cover every ISO 4217 minor unit). Timestamps are
stored in UTC. Ids from the store are text: Shopify ids are 64-bit and must survive any client.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
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

# Columns order_decisions gained in migration 7 (ALTER TABLE on warehouses created before it).
ORDER_DECISION_PLAN_COLUMNS = (("plan_run_id", String(64)), ("planned_at", DateTime(timezone=True)))
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
    # Planning (migration 7): the run that planned the decision and when; NULL until it is planned.
    *(Column(name, type_) for name, type_ in ORDER_DECISION_PLAN_COLUMNS),
    PrimaryKeyConstraint("shop_domain", "order_id", "trace_id", name="pk_order_decisions"),
)

# Columns planned_shipments gained in migration 6 (ALTER TABLE on warehouses created before it).
PLANNED_SHIPMENT_RATE_COLUMNS = (
    ("carrier", String(64)), ("carrier_service", String(64)), ("carrier_rate", Numeric(12, 2)),
    ("carrier_currency", String(3)), ("carrier_days", Integer), ("rate_reason", Text),
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
    # Rate shopping (migration 6): the carrier quote chosen for the shipment, NULL when not rate-shopped.
    *(Column(name, type_) for name, type_ in PLANNED_SHIPMENT_RATE_COLUMNS),
    # Who runs the location (migration 8): own_dc, 3pl, store or dropship, from the network at planning.
    Column("location_kind", String(16)),
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

# The writes each decision asked for, per run, until migration 7 moved them into writeback_outbox.
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

# The outbox (migration 7): every write anyone intends, recorded in the same transaction as the
# decision, plan or operator action that asks for it, before anything is sent. A writeback run sends
# what is open, oldest first, whichever run recorded it, and closes each row with its outcome.
# status: awaiting_gate (the recording run's quality gate has not passed yet) -> open -> closed.
writeback_outbox = Table(
    "writeback_outbox",
    metadata,
    Column("outbox_id", String(80), primary_key=True),  # "<run_id>:<seq>"
    Column("run_id", String(64), nullable=False),  # the run (or operator command) that intended it
    Column("seq", Integer, nullable=False),  # its place among that run's intents
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("trace_id", String(64), nullable=False),
    Column("workflow", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("idempotency_key", String(64), nullable=False),
    Column("by_operator", Boolean, nullable=False),
    Column("action_json", Text, nullable=False),  # the whole WriteAction, to send
    Column("status", String(16), nullable=False),  # awaiting_gate | open | closed
    Column("outcome", String(24)),  # when closed: written | rejected | queued_for_review | superseded | ...
    Column("detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_by_run", String(64)),
)


# -- fraud: labels, model registry, scores (migration 3) -----------------------------------------

# Shopify Payments disputes as last read from the store (they change status until finalized).
payment_disputes = Table(
    "payment_disputes",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("dispute_id", String(40), nullable=False),
    Column("order_id", String(40)),
    Column("dispute_type", String(20)),  # inquiry | chargeback
    Column("reason", String(40)),
    Column("network_reason_code", String(40)),
    Column("status", String(32)),
    Column("amount", MONEY),
    Column("currency", String(3)),
    Column("initiated_at", DateTime(timezone=True)),
    Column("evidence_due_by", DateTime(timezone=True)),
    Column("finalized_on", DateTime(timezone=True)),
    Column("payload", Text, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("landed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_domain", "dispute_id", name="pk_payment_disputes"),
)

# Operators' verdicts on orders (fraud | legitimate), append-only: the latest per order counts.
review_outcomes = Table(
    "review_outcomes",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("reviewed_by", String(120), nullable=False),
    Column("reviewed_at", DateTime(timezone=True), nullable=False),
    Column("source", String(40), nullable=False),  # oms fraud review | hold release | import
    Column("note", Text),
    PrimaryKeyConstraint("shop_domain", "order_id", "reviewed_at", name="pk_review_outcomes"),
)

# Every trained fraud model: candidate -> active (promoted) | rejected; active -> retired.
fraud_models = Table(
    "fraud_models",
    metadata,
    Column("version", String(80), primary_key=True),
    Column("shop_domain", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trained_at", DateTime(timezone=True), nullable=False),
    Column("window_start", String(40)),
    Column("window_end", String(40)),
    Column("test_start", String(40)),
    Column("feature_names", Text, nullable=False),  # JSON list
    Column("metrics", Text, nullable=False),  # JSON object
    Column("threshold", Double, nullable=False),
    Column("capacity", Double, nullable=False),
    Column("path", Text, nullable=False),  # directory with model.joblib + manifest.json
    Column("check_result", Text),  # JSON: the promotion check's verdict
    Column("promoted_at", DateTime(timezone=True)),
    Column("promoted_by", String(120)),
    Column("run_id", String(64)),
)

# One score per order version and model version; decisions read the latest.
fraud_scores = Table(
    "fraud_scores",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("order_updated_at", DateTime(timezone=True), nullable=False),
    Column("model_version", String(80), nullable=False),
    Column("fraud_score", Double, nullable=False),
    Column("review_threshold", Double),
    Column("decision", String(16), nullable=False),  # approve | review
    Column("reasons", Text, nullable=False),  # JSON list of phrases
    Column("scored_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=False),
    PrimaryKeyConstraint("shop_domain", "order_id", "order_updated_at", "model_version", name="pk_fraud_scores"),
)

FRAUD_TABLES = (payment_disputes, review_outcomes, fraud_models, fraud_scores)


# -- order note tags (migration 4) -------------------------------------------------------------

# What the note engine made of each order version's note. gift_message and instructions may hold
# personal data: stored for the shop's use, never logged or put in metadata.
order_note_tags = Table(
    "order_note_tags",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("order_updated_at", DateTime(timezone=True), nullable=False),
    Column("engine", String(16), nullable=False),  # local | anthropic (the family that answered)
    Column("engine_version", String(120), nullable=False),  # model or prompt version
    Column("tags", Text, nullable=False),  # JSON list of NoteTag values
    Column("deliver_by", Date),
    Column("hold_until", Date),
    Column("gift_message", Text),
    Column("instructions", Text),
    Column("confidence", Float, nullable=False),
    Column("fallback_reason", Text),
    # sha256 of the customer's note text: a new order version with the same note reuses the parse.
    Column("note_sha256", String(64)),
    Column("parsed_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=False),
    PrimaryKeyConstraint("shop_domain", "order_id", "order_updated_at", name="pk_order_note_tags"),
)


# -- reconciliation inputs (migration 5) -------------------------------------------------------

# What the store, the 3PL and the carrier each say happened to an order, landed as parsed rows so
# dbt can reconcile them (the models tagged reconciliation). Re-landing an order replaces its store rows.

# Store fulfillments (Shopify REST `order.fulfillments`) and the line items each one covers.
store_fulfillments = Table(
    "store_fulfillments",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("fulfillment_id", String(40), nullable=False),
    Column("status", String(32), nullable=False),  # pending | open | success | cancelled | error | failure
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("tracking_company", String(255)),
    Column("tracking_number", String(255)),
    Column("landed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_domain", "fulfillment_id", name="pk_store_fulfillments"),
)

store_fulfillment_lines = Table(
    "store_fulfillment_lines",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("fulfillment_id", String(40), nullable=False),
    Column("line_id", String(40), nullable=False),
    Column("sku", String(255)),
    Column("quantity", Integer, nullable=False),
    PrimaryKeyConstraint("shop_domain", "fulfillment_id", "line_id", name="pk_store_fulfillment_lines"),
)

# Store refunds (`order.refunds`): what the refund says is owed back (lines, tax, shipping)...
store_refunds = Table(
    "store_refunds",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("refund_id", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("note", Text),
    Column("lines_amount", MONEY, nullable=False),  # refund line subtotals + their tax
    Column("shipping_amount", MONEY, nullable=False),  # shipping refunded (order adjustments)
    Column("currency", String(3), nullable=False),
    Column("landed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_domain", "refund_id", name="pk_store_refunds"),
)

store_refund_lines = Table(
    "store_refund_lines",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("refund_id", String(40), nullable=False),
    Column("refund_line_id", String(40), nullable=False),
    Column("line_id", String(40), nullable=False),
    Column("sku", String(255)),
    Column("quantity", Integer, nullable=False),
    Column("restock_type", String(32)),  # cancel (never shipped) | return | no_restock | legacy_restock
    Column("subtotal", MONEY, nullable=False),
    Column("total_tax", MONEY, nullable=False),
    PrimaryKeyConstraint("shop_domain", "refund_id", "refund_line_id", name="pk_store_refund_lines"),
)

# ...and the money that actually moved: every order transaction (sales, captures, refunds, voids).
store_transactions = Table(
    "store_transactions",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("transaction_id", String(40), nullable=False),
    Column("refund_id", String(40)),  # set on the transactions of a refund
    Column("kind", String(32), nullable=False),  # authorization | capture | sale | void | refund
    Column("status", String(32), nullable=False),  # pending | failure | success | error
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("gateway", String(120)),
    Column("processed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("shop_domain", "transaction_id", name="pk_store_transactions"),
)

# Shipping the customer paid (`order.shipping_lines`, after shipping discounts).
store_shipping_lines = Table(
    "store_shipping_lines",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("shipping_line_id", String(40), nullable=False),
    Column("code", String(255)),
    Column("title", String(255)),
    Column("price", MONEY, nullable=False),
    Column("discounted_price", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    PrimaryKeyConstraint("shop_domain", "order_id", "shipping_line_id", name="pk_store_shipping_lines"),
)

# 3PL shipments (ShipStation `GET /shipments`): `orderKey` is the store order id we handed off.
tpl_shipments = Table(
    "tpl_shipments",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("shipment_id", String(40), nullable=False),
    Column("order_key", String(120)),
    Column("order_number", String(64)),
    Column("tracking_number", String(255)),
    Column("carrier_code", String(64)),
    Column("service_code", String(120)),
    Column("ship_date", Date),
    Column("create_date", DateTime(timezone=True)),
    Column("voided", Boolean, nullable=False),
    Column("weight_value", Numeric(14, 4)),
    Column("weight_units", String(16)),  # pounds | ounces | grams, as sent
    Column("weight_kg", Numeric(14, 4)),
    Column("shipment_cost", MONEY),
    Column("landed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_domain", "shipment_id", name="pk_tpl_shipments"),
)

tpl_shipment_items = Table(
    "tpl_shipment_items",
    metadata,
    Column("shop_domain", String(255), nullable=False),
    Column("shipment_id", String(40), nullable=False),
    Column("item_no", Integer, nullable=False),  # position in shipmentItems
    Column("sku", String(255)),
    Column("quantity", Integer, nullable=False),
    PrimaryKeyConstraint("shop_domain", "shipment_id", "item_no", name="pk_tpl_shipment_items"),
)

# Carrier invoice lines, one row per CSV row; `line_no` is the row's position within its invoice,
# so a charge billed twice stays two rows.
carrier_invoice_lines = Table(
    "carrier_invoice_lines",
    metadata,
    Column("invoice_number", String(120), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("invoice_date", Date, nullable=False),
    Column("tracking_number", String(255), nullable=False),
    Column("service", String(120)),
    Column("billed_weight_kg", Numeric(14, 4)),
    Column("charge_type", String(40), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("source_file", String(500)),
    Column("landed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("invoice_number", "line_no", name="pk_carrier_invoice_lines"),
)

RECONCILIATION_TABLES = (store_fulfillments, store_fulfillment_lines, store_refunds, store_refund_lines,
                         store_transactions, store_shipping_lines, tpl_shipments, tpl_shipment_items,
                         carrier_invoice_lines)
