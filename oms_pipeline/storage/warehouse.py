"""The warehouse: landing, canonical orders and quarantine on one SQLAlchemy URL.

DuckDB (embedded default) allows one writing process at a time, so connections are not pooled:
each unit of work opens and closes its own, and dbt's subprocess can open the file in between.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from oms_pipeline.domain.ingestion import OrderEvent, QuarantinedPayload
from oms_pipeline.domain.orders import Order
from oms_pipeline.domain.writeback.actions import WriteAction
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks as _chunks
from oms_pipeline.storage.bulk import insert_rows as _insert
from oms_pipeline.storage.bulk import read_frame
from oms_pipeline.storage.decisions import DecisionStore
from oms_pipeline.storage.fraud import FraudStore
from oms_pipeline.storage.order_events import EVENT_COLUMNS, CurrentOrders, current_orders, event_from_row
from oms_pipeline.storage.outbox import AWAITING_GATE, EXCEPTION_NOTICES, SUPERSEDABLE, OutboxStore, add_intents
from oms_pipeline.storage.writeback import WritebackStore


def _create_initial_tables(conn: Connection) -> None:
    for table in (schema.raw_order_events, schema.orders, schema.order_lines, schema.quarantined_orders,
                  schema.normalized_events, schema.ingestion_cursors):
        table.create(conn, checkfirst=True)


def _create_decision_tables(conn: Connection) -> None:
    for table in schema.DECISION_TABLES:
        table.create(conn, checkfirst=True)


def _create_fraud_tables(conn: Connection) -> None:
    for table in schema.FRAUD_TABLES:
        table.create(conn, checkfirst=True)


def _create_note_tables(conn: Connection) -> None:
    schema.order_note_tags.create(conn, checkfirst=True)


def _create_reconciliation_tables(conn: Connection) -> None:
    for table in schema.RECONCILIATION_TABLES:
        table.create(conn, checkfirst=True)


def _add_column(conn: Connection, table: str, name: str, type_: Any) -> None:
    # IF NOT EXISTS (DuckDB and PostgreSQL): a warehouse created after a change has the column already.
    ddl = sa.types.to_instance(type_).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {ddl}"))


def _add_shipment_rate_columns(conn: Connection) -> None:
    for name, type_ in schema.PLANNED_SHIPMENT_RATE_COLUMNS:
        _add_column(conn, "planned_shipments", name, type_)


def _create_writeback_outbox(conn: Connection) -> None:
    """The outbox, filled with the intents runs saved before it: each becomes an outbox row awaiting its
    run's quality gate, which the next writeback re-checks and then sends (or closes as already done).
    Decisions made before it count as planned by their own run, as they were."""
    schema.writeback_outbox.create(conn, checkfirst=True)
    for name, type_ in schema.ORDER_DECISION_PLAN_COLUMNS:
        _add_column(conn, "order_decisions", name, type_)
    conn.execute(sa.text("UPDATE order_decisions SET plan_run_id = run_id, planned_at = decided_at "
                         "WHERE planned_at IS NULL"))
    if not sa.inspect(conn).has_table("writeback_intents"):
        return
    t = schema.writeback_intents
    now = datetime.now(UTC)
    by_run: dict[str, list[WriteAction]] = {}
    for row in conn.execute(sa.select(t.c.run_id, t.c.action_json).order_by(t.c.run_id, t.c.seq)):
        by_run.setdefault(row.run_id, []).append(WriteAction.model_validate_json(row.action_json))
    for run_id, actions in by_run.items():
        add_intents(conn, run_id, actions, AWAITING_GATE, now)
    t.drop(conn)
    # An intent of a decision that is no longer the order's latest is not sent now (it may never have
    # been), except the exception notices of an order that is still an exception (see SUPERSEDABLE).
    o = schema.writeback_outbox
    s = schema.order_states
    latest = sa.select(s.c.order_id).where(s.c.shop_domain == o.c.shop_domain, s.c.order_id == o.c.order_id,
                                          s.c.trace_id == o.c.trace_id)
    exception = sa.select(s.c.order_id).where(s.c.shop_domain == o.c.shop_domain, s.c.order_id == o.c.order_id,
                                             s.c.state == "exception")
    notice = o.c.action.in_([k.value for k in EXCEPTION_NOTICES])
    conn.execute(sa.update(o).where(o.c.status == AWAITING_GATE, ~o.c.by_operator,
                                    o.c.action.in_([k.value for k in SUPERSEDABLE]), ~sa.exists(latest),
                                    ~sa.and_(notice, sa.exists(exception)))
                 .values(status="closed", outcome="superseded", closed_at=now,
                         detail="a newer decision of this order replaced it"))


def _add_location_kind(conn: Connection) -> None:
    """Plans remember who runs each location. Plans made before kinds existed were made under the rule
    of the time (a location whose id starts with ``3PL`` is the 3PL's), so that rule fills them in once."""
    _add_column(conn, "planned_shipments", "location_kind", sa.String(16))
    conn.execute(sa.text("UPDATE planned_shipments SET location_kind = CASE WHEN upper(location_id) LIKE '3PL%' "
                         "THEN '3pl' ELSE 'own_dc' END WHERE location_kind IS NULL"))


# Versioned DDL: append a (version, name, function) to change the schema; never edit a landed one.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "landing, canonical orders, quarantine, cursors", _create_initial_tables),
    (2, "decisions, order states, holds, audit log, writeback ledger, review queue", _create_decision_tables),
    (3, "payment disputes, review outcomes, fraud model registry, fraud scores", _create_fraud_tables),
    (4, "order note tags", _create_note_tables),
    (5, "reconciliation inputs: store fulfillments, refunds, transactions, 3PL shipments, carrier invoices",
     _create_reconciliation_tables),
    (6, "planned_shipments: the rate-shopped carrier, service, rate, days and reason", _add_shipment_rate_columns),
    (7, "writeback outbox (the intents moved into it); the run that planned each decision",
     _create_writeback_outbox),
    (8, "planned_shipments: the kind of each location (own DC, 3PL, store, dropship)", _add_location_kind),
]


@dataclass(frozen=True)
class LandingResult:
    """How many events were new and how many the warehouse already had."""

    inserted: int
    duplicates: int


@dataclass(frozen=True)
class UpsertResult:
    """How many canonical orders were written and how many were older than what is stored."""

    written: int
    stale: int
    lines: int


def make_engine(url: str) -> Engine:
    """An engine for ``url``; DuckDB without a pool (single writer across processes)."""
    if url.startswith("duckdb"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":  # DuckDB creates the file, not its folder
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(url, poolclass=sa.pool.NullPool)
    return sa.create_engine(url, pool_pre_ping=True)


class Warehouse:
    """Typed access to the warehouse tables. Every write is one transaction."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)

    @property
    def backend(self) -> str:
        """``duckdb`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def decisions(self) -> DecisionStore:
        """Decisions, order states and holds."""
        return DecisionStore(self.engine)

    @property
    def fraud(self) -> FraudStore:
        """Disputes, review outcomes, the fraud model registry and fraud scores."""
        return FraudStore(self.engine)

    @property
    def writeback(self) -> WritebackStore:
        """Audit log, writeback ledger and review queue."""
        return WritebackStore(self.engine)

    @property
    def outbox(self) -> OutboxStore:
        """Every intended write until it is sent or closed."""
        return OutboxStore(self.engine)

    def dispose(self) -> None:
        """Close every connection (lets another process open a DuckDB file)."""
        self.engine.dispose()

    # -- schema ----------------------------------------------------------------------------

    def schema_version(self) -> int | None:
        """The newest migration applied, or None for a warehouse never migrated (read only)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(schema.schema_migrations.name):
                return None
            return conn.execute(sa.select(sa.func.max(schema.schema_migrations.c.version))).scalar_one()

    def migrate(self) -> list[int]:
        """Apply the migrations not yet applied; return their versions."""
        applied_now: list[int] = []
        with self.engine.begin() as conn:
            schema.schema_migrations.create(conn, checkfirst=True)
            done = set(conn.execute(sa.select(schema.schema_migrations.c.version)).scalars())
            for version, name, apply in MIGRATIONS:
                if version in done:
                    continue
                apply(conn)
                conn.execute(sa.insert(schema.schema_migrations).values(
                    version=version, name=name, applied_at=datetime.now(UTC)))
                applied_now.append(version)
        return applied_now

    # -- landing ---------------------------------------------------------------------------

    def land_events(self, shop_domain: str, events: Sequence[OrderEvent], run_id: str) -> LandingResult:
        """Append events verbatim; an (order, version) already landed is not landed again."""
        now = datetime.now(UTC)
        unique: dict[str, OrderEvent] = {}
        for event in events:
            unique.setdefault(event.event_key, event)
        inserted = 0
        t = schema.raw_order_events
        with self.engine.begin() as conn:
            for chunk in _chunks(list(unique.values())):
                known = set(conn.execute(sa.select(t.c.event_key).where(
                    t.c.shop_domain == shop_domain, t.c.event_key.in_([e.event_key for e in chunk]))).scalars())
                rows = [
                    {"shop_domain": shop_domain, "event_key": e.event_key, "order_id": e.order_id,
                     "updated_at": e.updated_at, "source_api": e.source_api, "payload": e.payload_json,
                     "payload_sha256": e.payload_sha256, "ingested_at": now, "run_id": run_id}
                    for e in chunk if e.event_key not in known
                ]
                # ON CONFLICT guards against a concurrent run landing the same version meanwhile.
                _insert(conn, t, rows, skip_existing=True)
                inserted += len(rows)
        return LandingResult(inserted=inserted, duplicates=len(events) - inserted)

    def current_orders(self, shop_domain: str, *, order_ids: Sequence[str] | None = None,
                       created_since: datetime | None = None) -> CurrentOrders[OrderEvent]:
        """The current version of the shop's orders (all, ``order_ids``, or those created at or after
        ``created_since``) read into canonical orders, and the ones that could not be read."""
        return current_orders(self.engine, shop_domain, order_ids=order_ids, created_since=created_since)

    def pending_events(self, shop_domain: str, limit: int | None = None) -> list[OrderEvent]:
        """Landed events not yet normalized (this run's, and any an interrupted run left behind),
        oldest version first."""
        t, n = schema.raw_order_events, schema.normalized_events
        done = sa.select(n.c.event_key).where(n.c.shop_domain == shop_domain, n.c.event_key == t.c.event_key)
        query = (sa.select(t.c.order_id, *EVENT_COLUMNS)
                 .where(t.c.shop_domain == shop_domain, ~sa.exists(done))
                 .order_by(t.c.updated_at, t.c.event_key).limit(limit))
        with self.engine.connect() as conn:
            return [event_from_row(r, r.order_id) for r in conn.execute(query)]

    def shops_with_events(self) -> list[str]:
        """Every shop that has landed order events."""
        t = schema.raw_order_events
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(t.c.shop_domain).distinct()).scalars())

    def mark_normalized(self, shop_domain: str, outcomes: dict[str, str], run_id: str) -> None:
        """Record what normalization made of each event key."""
        now = datetime.now(UTC)
        rows = [{"shop_domain": shop_domain, "event_key": key, "outcome": outcome, "run_id": run_id,
                 "normalized_at": now} for key, outcome in outcomes.items()]
        with self.engine.begin() as conn:
            _insert(conn, schema.normalized_events, rows, skip_existing=True)

    # -- canonical orders ------------------------------------------------------------------

    def upsert_orders(self, pairs: Sequence[tuple[Order, OrderEvent]], run_id: str) -> UpsertResult:
        """Store each order unless a newer version is already stored; its lines are replaced with it."""
        if not pairs:
            return UpsertResult(0, 0, 0)
        now = datetime.now(UTC)
        o, lines_t = schema.orders, schema.order_lines
        by_shop: dict[str, list[tuple[Order, OrderEvent]]] = {}
        for pair in pairs:
            by_shop.setdefault(pair[0].shop_domain, []).append(pair)
        written = stale = line_count = 0
        with self.engine.begin() as conn:
            for shop, shop_pairs in by_shop.items():
                stored: dict[str, datetime] = {}
                ids = [order.id for order, _ in shop_pairs]
                for chunk in _chunks(ids):
                    stored.update(conn.execute(sa.select(o.c.order_id, o.c.updated_at).where(
                        o.c.shop_domain == shop, o.c.order_id.in_(chunk))).tuples().all())
                fresh = [(order, event) for order, event in shop_pairs
                         if order.id not in stored or order.updated_at > stored[order.id]]
                stale += len(shop_pairs) - len(fresh)
                replace = [order.id for order, _ in fresh if order.id in stored]
                for chunk in _chunks(replace):
                    conn.execute(sa.delete(lines_t).where(lines_t.c.shop_domain == shop,
                                                          lines_t.c.order_id.in_(chunk)))
                    conn.execute(sa.delete(o).where(o.c.shop_domain == shop, o.c.order_id.in_(chunk)))
                order_rows = [_order_row(order, event, run_id, now) for order, event in fresh]
                line_rows = [row for order, _ in fresh for row in _line_rows(order)]
                _insert(conn, o, order_rows)
                _insert(conn, lines_t, line_rows)
                written += len(fresh)
                line_count += len(line_rows)
        return UpsertResult(written=written, stale=stale, lines=line_count)

    # -- quarantine ------------------------------------------------------------------------

    def quarantine(self, shop_domain: str, items: Sequence[QuarantinedPayload], run_id: str) -> int:
        """Keep refused payloads with their reasons; seeing one again only updates ``last_seen_at``."""
        if not items:
            return 0
        now = datetime.now(UTC)
        q = schema.quarantined_orders
        new = 0
        with self.engine.begin() as conn:
            for chunk in _chunks(list({i.event.event_key: i for i in items}.values())):
                keys = [i.event.event_key for i in chunk]
                known = set(conn.execute(sa.select(q.c.event_key).where(
                    q.c.shop_domain == shop_domain, q.c.event_key.in_(keys))).scalars())
                if known:
                    conn.execute(sa.update(q).where(q.c.shop_domain == shop_domain, q.c.event_key.in_(known))
                                 .values(last_seen_at=now, run_id=run_id))
                rows = [
                    {"shop_domain": shop_domain, "event_key": i.event.event_key, "order_id": i.event.order_id,
                     "order_name": i.order_name, "updated_at": i.event.updated_at, "reason": i.error.reason,
                     "errors": json.dumps([e.model_dump() for e in i.error.errors]),
                     "payload": i.event.payload_json, "first_seen_at": now, "last_seen_at": now,
                     "run_id": run_id}
                    for i in chunk if i.event.event_key not in known
                ]
                _insert(conn, q, rows)
                new += len(rows)
        return new

    # -- cursors ---------------------------------------------------------------------------

    def high_water_mark(self, shop_domain: str, stream: str = "orders") -> str | None:
        """The stored high-water mark of a stream."""
        c = schema.ingestion_cursors
        with self.engine.connect() as conn:
            return conn.execute(sa.select(c.c.high_water_mark).where(
                c.c.shop_domain == shop_domain, c.c.stream == stream)).scalar_one_or_none()

    def set_high_water_mark(self, shop_domain: str, mark: str, stream: str = "orders") -> None:
        """Store a stream's high-water mark."""
        c = schema.ingestion_cursors
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            updated = conn.execute(sa.update(c).where(c.c.shop_domain == shop_domain, c.c.stream == stream)
                                   .values(high_water_mark=mark, updated_at=now)).rowcount
            if not updated:
                conn.execute(sa.insert(c).values(shop_domain=shop_domain, stream=stream, high_water_mark=mark,
                                                 updated_at=now))

    def reset_high_water_mark(self, shop_domain: str, stream: str = "orders") -> None:
        """Forget a stream's high-water mark: the next poll reads the store's whole history."""
        self.migrate()
        c = schema.ingestion_cursors
        with self.engine.begin() as conn:
            conn.execute(sa.delete(c).where(c.c.shop_domain == shop_domain, c.c.stream == stream))

    # -- reads -----------------------------------------------------------------------------

    def count(self, table: sa.Table, **where: Any) -> int:
        """Rows of ``table`` matching equality filters."""
        query = sa.select(sa.func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def row_counts(self, relations: Iterable[str]) -> dict[str, int]:
        """Rows in each relation (names as dbt renders them, already quoted)."""
        with self.engine.connect() as conn:
            return {r: int(conn.execute(sa.text(f"select count(*) from {r}")).scalar_one()) for r in relations}

    def frame(self, query: sa.Select) -> pd.DataFrame:
        """A query's result as a DataFrame."""
        return read_frame(self.engine, query)

    def orders_of_run(self, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The canonical orders a run wrote, and their lines."""
        o, lines_t = schema.orders, schema.order_lines
        orders = self.frame(sa.select(o).where(o.c.run_id == run_id))
        lines = self.frame(sa.select(lines_t).join(o, sa.and_(o.c.shop_domain == lines_t.c.shop_domain,
                                                               o.c.order_id == lines_t.c.order_id))
                           .where(o.c.run_id == run_id).with_only_columns(*lines_t.c))
        return orders, lines

    def quarantine_reasons(self, run_id: str | None = None) -> dict[str, int]:
        """Quarantined payloads counted by the field their first error names."""
        q = schema.quarantined_orders
        query = sa.select(q.c.reason)
        if run_id:
            query = query.where(q.c.run_id == run_id)
        counts: dict[str, int] = {}
        with self.engine.connect() as conn:
            for reason in conn.execute(query).scalars():
                field = reason.split(":", 1)[0]
                counts[field] = counts.get(field, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _order_row(order: Order, event: OrderEvent, run_id: str, now: datetime) -> dict[str, Any]:
    return {
        "shop_domain": order.shop_domain, "order_id": order.id, "order_gid": order.admin_graphql_api_id,
        "order_name": order.name, "order_number": order.number, "created_at": order.created_at,
        "updated_at": order.updated_at, "processed_at": order.processed_at, "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason, "closed_at": order.closed_at, "email": order.email,
        "customer_id": order.customer.id if order.customer else None, "currency": order.currency,
        "presentment_currency": order.presentment_currency, "subtotal_price": order.subtotal_price.amount,
        "total_discounts": order.total_discounts.amount, "total_shipping": order.total_shipping.amount,
        "total_tax": order.total_tax.amount, "total_price": order.total_price.amount,
        "presentment_total_price": order.presentment_total_price.amount,
        "line_items_total": order.line_items_total.amount, "line_count": len(order.line_items),
        "unit_count": order.unit_count, "financial_status": order.financial_status.value,
        "fulfillment_status": order.fulfillment_status.value, "source_name": order.source_name,
        "tags": ", ".join(order.tags), "note": order.note,
        "shipping_country_code": order.shipping_address.country_code if order.shipping_address else None,
        "billing_country_code": order.billing_address.country_code if order.billing_address else None,
        "is_test": order.test, "source_event_key": event.event_key, "ingested_at": now, "run_id": run_id,
    }


def _line_rows(order: Order) -> list[dict[str, Any]]:
    return [
        {"shop_domain": order.shop_domain, "order_id": order.id, "line_id": line.id, "position": position,
         "sku": line.sku, "title": line.title, "variant_title": line.variant_title, "vendor": line.vendor,
         "product_id": line.product_id, "variant_id": line.variant_id, "quantity": line.quantity,
         "unit_price": line.unit_price.amount, "total_discount": line.total_discount.amount,
         "line_total": line.line_total.amount, "currency": line.unit_price.currency,
         "requires_shipping": line.requires_shipping, "is_gift_card": line.is_gift_card,
         "order_updated_at": order.updated_at}
        for position, line in enumerate(order.line_items)
    ]
