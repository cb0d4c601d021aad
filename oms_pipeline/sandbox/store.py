"""The sandbox store: thread-safe in-memory orders that keep changing, on a clock.

Orders are created up front (spread over the past three days) and then keep being created and
changed at ``rate_per_min`` events per minute of the clock. Events are applied lazily: each request
catches up the events that fell due since the previous one, each stamped with its own due time,
so the store's history is a function of the seed and the clock readings.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from oms_pipeline.sandbox.generator import OrderGenerator, rest_time
from oms_pipeline.sandbox.records import OrderRecord
from oms_pipeline.sandbox.writeback import (
    FULFILLMENT_HOLD_GID,
    FULFILLMENT_ORDER_GID,
    OrderWrites,
    fulfillment_order_number,
    fulfillment_order_status,
    split_tags,
)

Clock = Callable[[], datetime]

HISTORY = timedelta(days=3)
# Weights of the kinds of store events; a kind with no eligible order falls back to a new order.
EVENT_WEIGHTS = {"new_order": 30, "edit": 20, "capture": 10, "refund": 8, "fulfill": 20, "cancel": 7}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MissingId:
    """``malformed()`` key of an order served without an id: falsy like None, but one per order."""

    def __init__(self, name: str):
        self.name = name

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"MissingId({self.name!r})"


class SandboxStore:
    """Orders of one sandbox shop, with a seeded generator and a clock. Safe to share between threads."""

    def __init__(self, seed: int = 0, orders: int = 200, rate_per_min: float = 60.0,
                 malformed_rate: float = 0.03, clock: Clock | None = None, *, history_orders: int = 0,
                 history_days: int = 90, fraud_rate: float = 0.02):
        self.seed = seed
        self.rate_per_min = rate_per_min
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        self._stats: Counter[str] = Counter()
        self._gen = OrderGenerator(seed, malformed_rate)
        self._records: list[OrderRecord] = []
        self._by_key: dict[int, OrderRecord] = {}
        self._started = self.now()
        self._events_applied = 0
        self.version = 0  # bumped on every change, so sorted views know when to re-sort
        self._writes: dict[int, OrderWrites] = {}  # metafields and holds apps wrote, by order id
        self._next_ids: Counter[str] = Counter()
        self._disputes: list[dict[str, Any]] = []
        self.review_outcomes: list[dict[str, Any]] = []  # past operator verdicts (no store API serves them)
        self.fraud_ids: frozenset[int] = frozenset()  # ground truth of the history, for measuring only
        if history_orders:
            self._populate_history(history_orders, history_days, fraud_rate)
        self._populate(orders)

    # -- time -----------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The clock, at second precision (as Shopify stamps changes)."""
        return self._clock().astimezone(UTC).replace(microsecond=0)

    @property
    def lock(self) -> threading.RLock:
        """Hold it while reading records so no event changes them mid-render."""
        return self._lock

    # -- test hooks and counters ------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, int]:
        """Counters (a copy): requests, throttled answers, faults by kind, events by kind, ..."""
        with self._lock:
            return dict(self._stats)

    def count(self, key: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``key``."""
        with self._lock:
            self._stats[key] += n

    def advance(self, n_events: int) -> list[str]:
        """Apply ``n_events`` store events now (after any that were already due); their kinds."""
        with self._lock:
            self.catch_up()
            now = self.now()
            return [self._event(now) for _ in range(n_events)]

    def current_versions(self) -> dict[str, str]:
        """``{order id: updated_at}`` (REST format) of every order served with an id."""
        with self._lock:
            self.catch_up()
            return {r.served_id: rest_time(r.updated) for r in self._records if r.served_id}

    def malformed(self) -> dict[str | MissingId, list[str]]:
        """Malformed orders: order id (or a falsy ``MissingId`` when served without one) -> fault kinds."""
        with self._lock:
            return {(r.served_id or MissingId(r.order["name"])): list(r.faults) for r in self._records if r.faults}

    # -- reading ----------------------------------------------------------------------------------

    def records(self) -> list[OrderRecord]:
        """Every order, oldest first (hold ``lock`` while using them)."""
        with self._lock:
            return list(self._records)

    def get(self, order_id: int) -> OrderRecord | None:
        """The order served with this id, if any."""
        with self._lock:
            record = self._by_key.get(order_id)
            return record if record and record.served_id else None

    # -- writeback (apps' mutations) ----------------------------------------------------------------

    def peek_writes(self, order_key: int) -> OrderWrites | None:
        """What apps wrote to an order (metafields, holds), or None if nothing yet (hold ``lock``)."""
        with self._lock:
            return self._writes.get(order_key)

    def writes(self, order_key: int) -> OrderWrites:
        """What apps wrote to an order, created empty on first use (hold ``lock`` while changing it)."""
        with self._lock:
            return self._writes.setdefault(order_key, OrderWrites())

    def next_id(self, kind: str) -> int:
        """The next number of a store-made object (``FulfillmentHold``, ``Metafield``), from 1."""
        with self._lock:
            self._next_ids[kind] += 1
            return self._next_ids[kind]

    def record_change(self, record: OrderRecord, moment: datetime | None = None) -> None:
        """An app changed ``record``: stamp its ``updated_at`` (now) so ingestion sees a new version."""
        with self._lock:
            record.touch(moment or self.now())
            self.version += 1

    def writeback_state(self, order_id: str | int) -> dict[str, Any]:
        """What the writeback mutations left on an order, for tests (a copy).

        ``{"tags": [...], "note": ..., "metafields": {"ns.key": {"type", "value"}},
        "holds": [{"id", "handle", "reason", "reason_notes"}], "fulfillment_order": {"id", "status"},
        "updated_at": ...}``; raises ``KeyError`` for an unknown order.
        """
        with self._lock:
            record = self._by_key[int(order_id)]
            writes = self._writes.get(record.key)
            return {
                "tags": split_tags(record.order.get("tags")),
                "note": record.order.get("note"),
                "metafields": {f"{m.namespace}.{m.key}": {"type": m.type, "value": m.value}
                               for m in (writes.metafields.values() if writes else ())},
                "holds": [{"id": f"{FULFILLMENT_HOLD_GID}{h.id}", "handle": h.handle, "reason": h.reason,
                           "reason_notes": h.reason_notes} for h in (writes.holds if writes else ())],
                "fulfillment_order": {"id": f"{FULFILLMENT_ORDER_GID}{fulfillment_order_number(record.key)}",
                                      "status": fulfillment_order_status(record.order, writes)},
                "updated_at": rest_time(record.updated),
            }

    def fulfill_shipped(self, order_key: str, items: list[dict[str, Any]], tracking: str, carrier: str,
                        moment: datetime) -> dict[str, Any] | None:
        """The 3PL shipped ``items`` (``{"sku", "quantity"}``) of an order: record the store fulfillment
        with the label's ``tracking`` number, as a ShipStation store connection does.

        Lines are matched by SKU and capped at what is left to ship; returns the fulfillment element,
        or None when the order is unknown, cancelled or has nothing of those SKUs left to ship."""
        with self._lock:
            record = self._by_key.get(int(order_key)) if str(order_key).isdigit() else None
            if record is None or record.order["cancelled_at"] is not None:
                return None
            wanted: Counter[str] = Counter()
            for item in items:
                wanted[str(item.get("sku"))] += int(item.get("quantity") or 0)
            quantities = []
            for line in record.order["line_items"]:
                units = min(line["fulfillable_quantity"], wanted[str(line["sku"])])
                if units > 0:
                    wanted[str(line["sku"])] -= units
                    quantities.append((line, units))
            if not quantities:
                return None
            fulfillment = self._gen.record_fulfillment(record.order, quantities, moment, tracking, carrier.upper())
            record.touch(max(moment, self.now()))
            self.version += 1
            self._stats["event_fulfillment_3pl"] += 1
            return copy.deepcopy(fulfillment)

    # -- events -----------------------------------------------------------------------------------

    def catch_up(self) -> int:
        """Apply the events due by now at ``rate_per_min``, each at its due time; how many."""
        if self.rate_per_min <= 0:
            return 0
        with self._lock:
            interval = timedelta(seconds=60.0 / self.rate_per_min)
            now = self._clock()
            applied = 0
            while self._started + interval * (self._events_applied + 1) <= now:
                self._events_applied += 1
                due = (self._started + interval * self._events_applied).replace(microsecond=0)
                self._event(due)
                applied += 1
            return applied

    def _populate(self, n: int) -> None:
        rng = self._gen.rng
        # Up to one second before start: a change made "now" is then strictly newer than history.
        end = self._started - timedelta(seconds=1)
        span = int(HISTORY.total_seconds())
        offsets = sorted(rng.randrange(span) for _ in range(n))
        for offset in offsets:
            created = end - timedelta(seconds=span - offset)
            record = self._new_record(created)
            # History: some orders have since been paid, shipped, edited or cancelled.
            left = int((end - created).total_seconds())
            changes = rng.choices((0, 1, 2, 3), (40, 30, 20, 10))[0] if left > 0 else 0
            for moment in sorted(rng.randrange(1, left + 1) for _ in range(changes)):
                self._change(record, rng.choice(list(EVENT_WEIGHTS)[1:]), created + timedelta(seconds=moment))

    def _populate_history(self, n: int, days: int, fraud_rate: float) -> None:
        """Months of older orders with a fraud process and late disputes, before the live window.

        Drawn from the store's own generator (ids and numbers stay unique) and served fault-free.
        Orders older than a few days have since been paid and shipped, as in a real store.
        """
        from oms_pipeline.sandbox.fraud_history import build_fraud_history

        history = build_fraud_history(n, seed=self.seed, days=days, fraud_rate=fraud_rate,
                                      start=self._started - HISTORY - timedelta(days=days), generator=self._gen)
        rng = self._gen.rng
        end = self._started - timedelta(seconds=1)
        for order in history.orders:
            created = datetime.fromisoformat(order["created_at"]).astimezone(UTC)
            record = OrderRecord(key=order["id"], order=order, faults=(), created=created, updated=created)
            self._records.append(record)
            self._by_key[record.key] = record
            if order["financial_status"] in ("pending", "partially_paid"):
                order["financial_status"] = "paid"  # settled long ago
            for kind, hours in (("capture", 6), ("fulfill", 30), ("fulfill", 54), ("fulfill", 78)):
                moment = min(created + timedelta(hours=hours, minutes=rng.randrange(600)), end)
                if moment > created:
                    self._change(record, kind, moment)
        self._records.sort(key=lambda r: r.created)
        self.version += 1
        self._disputes = history.disputes
        self.review_outcomes = history.review_outcomes
        self.fraud_ids = history.fraud_ids

    def disputes(self) -> list[dict[str, Any]]:
        """Shopify Payments disputes as the store shows them now: initiated by now, newest first.

        A dispute whose decision lies in the future is still open (``needs_response`` while evidence
        is due, then ``under_review``), with no ``finalized_on`` yet.
        """
        with self._lock:
            now = self.now()
            shown = []
            for dispute in self._disputes:
                initiated = datetime.fromisoformat(dispute["initiated_at"])
                if initiated > now:
                    continue
                item = dict(dispute)
                finalized = dispute["finalized_on"]
                if finalized is None or datetime.fromisoformat(finalized) > now:
                    due = datetime.fromisoformat(dispute["evidence_due_by"])
                    item["status"] = dispute["status"] if finalized is None else (
                        "needs_response" if now < due else "under_review")
                    item["finalized_on"] = None
                shown.append(item)
            shown.sort(key=lambda d: (datetime.fromisoformat(d["initiated_at"]), d["id"]), reverse=True)
            return shown

    def _new_record(self, created: datetime) -> OrderRecord:
        order, faults = self._gen.new_order(created)
        record = OrderRecord(key=order["id"], order=order, faults=faults, created=created, updated=created)
        self.version += 1
        self._records.append(record)
        self._by_key[record.key] = record
        return record

    def _event(self, moment: datetime) -> str:
        rng = self._gen.rng
        kind = rng.choices(list(EVENT_WEIGHTS), list(EVENT_WEIGHTS.values()))[0]
        done = None
        if kind != "new_order" and self._records:
            # A few random draws find an eligible order without scanning them all.
            for _ in range(20):
                done = self._change(rng.choice(self._records), kind, moment)
                if done:
                    break
        if not done:
            self._new_record(moment)
            done = "new_order"
        self._stats[f"event_{done}"] += 1
        self._stats["events"] += 1
        return done

    def _change(self, record: OrderRecord, kind: str, moment: datetime) -> str | None:
        """Apply ``kind`` to ``record`` at ``moment`` if it is eligible; what was done, else None."""
        gen = self._gen
        truth = record.order
        if truth["cancelled_at"] is not None:
            return None
        if kind == "edit":
            done = gen.edit(truth)
        elif kind == "capture" and truth["financial_status"] == "authorized":
            done = gen.capture(truth, moment)
        elif kind == "refund" and truth["financial_status"] in ("paid", "partially_paid", "partially_refunded"):
            done = gen.refund(truth, moment)
        elif kind == "fulfill" and truth["fulfillment_status"] in (None, "partial"):
            done = gen.fulfill(truth, moment)
        elif kind == "cancel" and truth["fulfillment_status"] is None:
            done = gen.cancel(truth, moment)
        else:
            return None
        record.touch(moment)
        self.version += 1
        return done
