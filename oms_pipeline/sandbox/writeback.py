"""Shopify's writeback mutations over the sandbox store: order tags and note, metafields, fulfillment holds.

The GraphQL endpoint dispatches each mutation field here (``WritebackMutations.run``) and projects the
payload view it gets back through the selection set, as it does for queries. The semantics follow
Shopify's documentation for API version 2025-01:

- ``tagsAdd`` appends (a tag already on the order is kept once); ``orderUpdate`` with ``tags``
  replaces them, and sets ``note``;
- ``metafieldsSet`` takes at most 25 metafields and is atomic: one bad input and nothing is saved;
- every order has one fulfillment order; an app may place up to 10 holds on it, each with a handle
  unique for that app and fulfillment order; it is ``ON_HOLD`` while any hold remains;
- bad input is answered with ``userErrors`` (HTTP 200), never with an exception;
- a mutation that changes an order stamps the order's ``updated_at``, so ingestion sees a new version.

Everything runs under the store's lock: a mutation is applied whole or not at all, and no store
event interleaves with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import urlparse

from oms_pipeline.sandbox.records import OrderRecord

MAX_METAFIELDS_PER_SET = 25
MAX_HOLDS_PER_APP = 10
MAX_TAGS_PER_ORDER = 250
MAX_TAG_LENGTH = 255
# An omitted namespace is the app's reserved one (``$app``), which Shopify resolves per app.
APP_NAMESPACE = "app--sandbox"
HOLDABLE_STATUSES = ("OPEN", "ON_HOLD")
CLOSED_STATUSES = ("CLOSED", "CANCELLED")

ORDER_GID = "gid://shopify/Order/"
FULFILLMENT_ORDER_GID = "gid://shopify/FulfillmentOrder/"
FULFILLMENT_HOLD_GID = "gid://shopify/FulfillmentHold/"
METAFIELD_GID = "gid://shopify/Metafield/"

METAFIELD_TYPES = ("single_line_text_field", "multi_line_text_field", "json", "boolean", "number_integer",
                   "number_decimal", "date", "date_time", "url", "list.single_line_text_field")

OrderView = Callable[[OrderRecord], dict[str, Any]]


# -- what the store keeps --------------------------------------------------------------------------

@dataclass
class MetafieldRecord:
    """One metafield on an order."""

    id: int
    namespace: str
    key: str
    type: str
    value: str
    created: datetime
    updated: datetime

    @property
    def digest(self) -> str:
        """``compareDigest``: changes whenever the stored value or type does."""
        return hashlib.sha256(json.dumps([self.namespace, self.key, self.type, self.value]).encode()).hexdigest()


@dataclass
class FulfillmentHoldRecord:
    """One fulfillment hold, and the app (access token) that placed it."""

    id: int
    handle: str
    reason: str
    reason_notes: str | None
    app: str
    external_id: str | None = None


@dataclass
class OrderWrites:
    """What apps wrote to one order beyond its REST truth: metafields and its fulfillment order's holds."""

    metafields: dict[tuple[str, str], MetafieldRecord] = field(default_factory=dict)
    holds: list[FulfillmentHoldRecord] = field(default_factory=list)
    fulfillment_updated: datetime | None = None


class InvalidGlobalId(ValueError):
    """An argument that is not a Shopify global id at all (answered in ``errors``, like a bad query id)."""


# -- ids and derived state -------------------------------------------------------------------------

def fulfillment_order_number(order_key: int) -> int:
    """The numeric id of the order's one fulfillment order (stable, and reversible)."""
    return order_key * 10 + 1


def order_key_of_fulfillment_order(number: int) -> int | None:
    """The order id behind a fulfillment order number, or None when no order can own it."""
    order_key, rest = divmod(number, 10)
    return order_key if rest == 1 else None


def parse_gid(gid: Any, kind: str) -> int | None:
    """The number in ``gid://shopify/<kind>/<n>``; None for another kind; raises for a non-gid."""
    if not isinstance(gid, str) or not gid.startswith("gid://shopify/"):
        raise InvalidGlobalId(f"Invalid global id '{gid}'")
    prefix = f"gid://shopify/{kind}/"
    tail = gid[len(prefix):] if gid.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


def fulfillment_order_status(truth: dict[str, Any], writes: OrderWrites | None) -> str:
    """``FulfillmentOrderStatus`` of the order's fulfillment order, from its REST truth and holds."""
    # A cancelled order's fulfillment orders are closed, like a fulfilled order's.
    if truth.get("cancelled_at") is not None or truth.get("fulfillment_status") in ("fulfilled", "restocked"):
        return "CLOSED"
    if writes is not None and writes.holds:
        return "ON_HOLD"
    if truth.get("fulfillment_status") == "partial":
        return "IN_PROGRESS"
    return "OPEN"


def split_tags(value: Any) -> list[str]:
    """REST ``tags`` text -> list (``"a, b"`` -> ``["a", "b"]``)."""
    return [t.strip() for t in value.split(",") if t.strip()] if isinstance(value, str) else []


def iso(moment: datetime) -> str:
    """GraphQL ``DateTime`` text (UTC, ``Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- views (GraphQL shape, projected by the endpoint) ------------------------------------------------

def hold_view(hold: FulfillmentHoldRecord, app: str | None) -> dict[str, Any]:
    """The ``FulfillmentHold`` object as the requesting app sees it."""
    return {"__typename": "FulfillmentHold", "id": f"{FULFILLMENT_HOLD_GID}{hold.id}", "handle": hold.handle,
            "reason": hold.reason, "reasonNotes": hold.reason_notes,
            "displayReason": hold.reason.replace("_", " ").capitalize(), "heldByRequestingApp": hold.app == app}


def fulfillment_order_view(record: OrderRecord, writes: OrderWrites | None, app: str | None) -> dict[str, Any]:
    """The ``FulfillmentOrder`` object of ``record``'s one fulfillment order."""
    holds = list(writes.holds) if writes else []
    updated = writes.fulfillment_updated if writes and writes.fulfillment_updated else record.created
    return {"__typename": "FulfillmentOrder", "id": f"{FULFILLMENT_ORDER_GID}{fulfillment_order_number(record.key)}",
            "status": fulfillment_order_status(record.order, writes),
            "fulfillmentHolds": [hold_view(h, app) for h in holds],
            "orderId": f"{ORDER_GID}{record.key}", "orderName": record.order.get("name"),
            "createdAt": iso(record.created), "updatedAt": iso(updated)}


def metafield_view(metafield: MetafieldRecord) -> dict[str, Any]:
    """The ``Metafield`` object."""
    return {"__typename": "Metafield", "id": f"{METAFIELD_GID}{metafield.id}", "namespace": metafield.namespace,
            "key": metafield.key, "type": metafield.type, "value": metafield.value,
            "compareDigest": metafield.digest, "createdAt": iso(metafield.created), "updatedAt": iso(metafield.updated)}


def order_extras(record: OrderRecord, writes: OrderWrites | None, app: str | None) -> dict[str, Any]:
    """The ``Order`` fields that come from writes, to merge into its view (build under the store lock).

    Fields with arguments are callables of their coerced arguments; their data is snapshotted now.
    """
    fulfillment_order = fulfillment_order_view(record, writes, app)
    metafields = [metafield_view(m) for m in sorted(writes.metafields.values(), key=lambda m: m.id)] if writes else []

    def metafields_field(args: dict[str, Any]) -> list[dict[str, Any]]:
        keys = args.get("keys")
        return [m for m in metafields
                if (args.get("namespace") is None or m["namespace"] == args["namespace"])
                and (keys is None or f"{m['namespace']}.{m['key']}" in keys)]

    def metafield_field(args: dict[str, Any]) -> dict[str, Any] | None:
        namespace = _namespace(args.get("namespace"))
        return next((m for m in metafields if m["namespace"] == namespace and m["key"] == args["key"]), None)

    def fulfillment_orders_field(args: dict[str, Any]) -> list[dict[str, Any]]:
        if args.get("displayable") and fulfillment_order["status"] in CLOSED_STATUSES:
            return []
        return [fulfillment_order]

    extras: dict[str, Any] = {"metafields": metafields_field, "metafield": metafield_field,
                              "fulfillmentOrders": fulfillment_orders_field}
    if fulfillment_order["status"] == "ON_HOLD":
        extras["displayFulfillmentStatus"] = "ON_HOLD"  # as Shopify shows an order whose fulfillment is held
    return extras


# -- user errors -----------------------------------------------------------------------------------

def _error(field_path: list[str] | None, message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"field": field_path, "message": message, "code": code, **extra}


def _namespace(namespace: str | None) -> str:
    if not namespace:
        return APP_NAMESPACE
    return APP_NAMESPACE + namespace[len("$app"):].replace(":", "--", 1) if namespace.startswith("$app") else namespace


def _clean_tags(raw: list[str] | None, path: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """Tags from a list whose entries may themselves be comma-separated; blank or long ones are errors."""
    if not raw:
        return [], [_error(path, "Tags can't be blank")]
    tags: list[str] = []
    for entry in raw:
        parts = [p.strip() for p in entry.split(",")]
        if not any(parts):
            return [], [_error(path, "Tag can't be blank")]
        for part in filter(None, parts):
            if len(part) > MAX_TAG_LENGTH:
                return [], [_error(path, f"Tag '{part[:20]}...' is too long (maximum is {MAX_TAG_LENGTH} characters)")]
            tags.append(part)
    return tags, []


def _merged_tags(current: list[str], new: list[str]) -> list[str]:
    # Shopify's tags are unique regardless of case and listed alphabetically.
    seen = {t.lower(): t for t in current}
    for tag in new:
        seen.setdefault(tag.lower(), tag)
    return sorted(seen.values(), key=str.lower)


def _valid_value(kind: str, value: str) -> bool:
    try:
        if kind == "single_line_text_field":
            return "\n" not in value
        if kind == "multi_line_text_field":
            return True
        if kind == "json":
            json.loads(value)
            return True
        if kind == "boolean":
            return value in ("true", "false")
        if kind == "number_integer":
            int(value)
            return True
        if kind == "number_decimal":
            return Decimal(value).is_finite()
        if kind == "date":
            date.fromisoformat(value)
            return True
        if kind == "date_time":
            datetime.fromisoformat(value)
            return True
        if kind == "url":
            parsed = urlparse(value)
            return parsed.scheme in ("http", "https") and bool(parsed.netloc)
        if kind == "list.single_line_text_field":
            items = json.loads(value)
            return isinstance(items, list) and all(isinstance(i, str) and "\n" not in i for i in items)
    except (ValueError, InvalidOperation, TypeError):
        return False
    return False


# -- the mutations ---------------------------------------------------------------------------------

class WritableStore(Protocol):
    """What the mutations need of the sandbox store (``SandboxStore``), which in turn reads their records."""

    lock: Any

    def count(self, name: str) -> None: ...
    def get(self, order_id: int) -> OrderRecord | None: ...
    def now(self) -> datetime: ...
    def next_id(self, kind: str) -> int: ...
    def record_change(self, record: OrderRecord, moment: datetime | None = None) -> None: ...
    def peek_writes(self, order_key: int) -> OrderWrites | None: ...
    def writes(self, order_key: int) -> OrderWrites: ...


class WritebackMutations:
    """Applies Shopify's writeback mutations to a sandbox store; each answers a payload view."""

    def __init__(self, store: WritableStore):
        self.store = store

    def run(self, name: str, args: dict[str, Any], *, app: str | None, order_view: OrderView) -> dict[str, Any]:
        """Apply mutation ``name`` with coerced ``args`` for ``app``; its payload view (``userErrors`` inside).

        Raises ``InvalidGlobalId`` for an id argument that is not a global id.
        """
        handler = {"tagsAdd": self._tags_add, "orderUpdate": self._order_update, "metafieldsSet": self._metafields_set,
                   "fulfillmentOrderHold": self._hold, "fulfillmentOrderReleaseHold": self._release_hold}[name]
        with self.store.lock:
            payload = handler(args, app, order_view)
        self.store.count("mutations")
        self.store.count(f"mutation_{name}")
        if payload["userErrors"]:
            self.store.count("mutation_user_errors")
        return payload

    def _order(self, gid: Any) -> OrderRecord | None:
        key = parse_gid(gid, "Order")
        return self.store.get(key) if key is not None else None

    def _fulfillment_order(self, gid: Any) -> OrderRecord | None:
        number = parse_gid(gid, "FulfillmentOrder")
        key = order_key_of_fulfillment_order(number) if number is not None else None
        return self.store.get(key) if key is not None else None

    def _tags_add(self, args: dict[str, Any], _app: str | None, order_view: OrderView) -> dict[str, Any]:
        record = self._order(args["id"])
        if record is None:
            return {"node": None, "userErrors": [_error(["id"], "Order does not exist")]}
        tags, errors = _clean_tags(args["tags"], ["tags"])
        current = split_tags(record.order.get("tags"))
        merged = _merged_tags(current, tags)
        if not errors and len(merged) > MAX_TAGS_PER_ORDER:
            errors = [_error(["tags"], f"Tags cannot exceed {MAX_TAGS_PER_ORDER} per order")]
        if errors:
            return {"node": None, "userErrors": errors}
        if merged != current:
            record.order["tags"] = ", ".join(merged)
            self.store.record_change(record)
        return {"node": order_view(record), "userErrors": []}

    def _order_update(self, args: dict[str, Any], _app: str | None, order_view: OrderView) -> dict[str, Any]:
        update = args["input"]
        record = self._order(update["id"])
        if record is None:
            return {"order": None, "userErrors": [_error(["id"], "Order does not exist")]}
        changes: dict[str, Any] = {}
        if "tags" in update:
            # A null or empty list clears the tags: orderUpdate replaces them.
            tags, errors = _clean_tags(update["tags"], ["tags"]) if update["tags"] else ([], [])
            if errors:
                return {"order": None, "userErrors": errors}
            if len(tags) > MAX_TAGS_PER_ORDER:
                return {"order": None, "userErrors": [_error(["tags"], f"Tags cannot exceed {MAX_TAGS_PER_ORDER}")]}
            changes["tags"] = ", ".join(_merged_tags([], tags))
        if "note" in update:
            changes["note"] = update["note"]
        if any(record.order.get(k) != v for k, v in changes.items()):
            record.order.update(changes)
            self.store.record_change(record)
        return {"order": order_view(record), "userErrors": []}

    def _metafields_set(self, args: dict[str, Any], _app: str | None, _order_view: OrderView) -> dict[str, Any]:
        inputs = args["metafields"]
        if len(inputs) > MAX_METAFIELDS_PER_SET:
            return {"metafields": None, "userErrors": [_error(
                ["metafields"], f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS_PER_SET}.",
                "LESS_THAN_OR_EQUAL_TO", elementIndex=None)]}
        errors: list[dict[str, Any]] = []
        plan: list[tuple[OrderRecord, str, str, str, str]] = []
        for index, given in enumerate(inputs):
            path = ["metafields", str(index)]

            def fail(name: str, message: str, code: str, index: int = index, path: list[str] = path) -> None:
                errors.append(_error([*path, name], message, code, elementIndex=index))

            try:
                record = self._order(given["ownerId"])
            except InvalidGlobalId:
                record = None
            if record is None:
                fail("ownerId", "Owner does not exist.", "INVALID_VALUE")
                continue
            namespace, key = _namespace(given.get("namespace")), given["key"]
            if len(key) < 2:
                fail("key", "Key is too short (minimum is 2 characters)", "TOO_SHORT")
            elif len(key) > 64:
                fail("key", "Key is too long (maximum is 64 characters)", "TOO_LONG")
            if len(namespace) < 3:
                fail("namespace", "Namespace is too short (minimum is 3 characters)", "TOO_SHORT")
            elif len(namespace) > 255:
                fail("namespace", "Namespace is too long (maximum is 255 characters)", "TOO_LONG")
            writes = self.store.peek_writes(record.key)
            existing = writes.metafields.get((namespace, key)) if writes else None
            kind = given.get("type") or (existing.type if existing else None)
            value = given["value"]
            if kind is None:
                fail("type", "Type can't be blank", "BLANK")
            elif kind not in METAFIELD_TYPES:
                fail("type", f"Type '{kind}' is not a valid type.", "INVALID_TYPE")
            elif value == "":
                fail("value", "Value can't be blank", "BLANK")
            elif not _valid_value(kind, value):
                fail("value", f"Value is invalid for type {kind}.", "INVALID_VALUE")
            if "compareDigest" in given and given["compareDigest"] != (existing.digest if existing else None):
                fail("compareDigest", "The resource has been updated since it was loaded. Try again with an "
                     "updated `compareDigest` value.", "STALE_OBJECT")
            plan.append((record, namespace, key, kind or "", value))
        if errors:
            return {"metafields": None, "userErrors": errors}  # atomic: nothing is saved
        now = self.store.now()
        saved: list[MetafieldRecord] = []
        changed: dict[int, OrderRecord] = {}
        for record, namespace, key, kind, value in plan:
            writes = self.store.writes(record.key)
            metafield = writes.metafields.get((namespace, key))
            if metafield is None:
                metafield = MetafieldRecord(self.store.next_id("Metafield"), namespace, key, kind, value, now, now)
                writes.metafields[(namespace, key)] = metafield
                changed[record.key] = record
            elif (metafield.type, metafield.value) != (kind, value):
                metafield.type, metafield.value, metafield.updated = kind, value, now
                changed[record.key] = record
            saved.append(metafield)
        for record in changed.values():
            self.store.record_change(record, now)
        return {"metafields": [metafield_view(m) for m in saved], "userErrors": []}

    def _hold(self, args: dict[str, Any], app: str | None, _order_view: OrderView) -> dict[str, Any]:
        empty = {"fulfillmentHold": None, "fulfillmentOrder": None, "remainingFulfillmentOrder": None}
        record = self._fulfillment_order(args["id"])
        if record is None:
            return {**empty, "userErrors": [_error(["id"], "Fulfillment order does not exist.",
                                                   "FULFILLMENT_ORDER_NOT_FOUND")]}
        writes = self.store.peek_writes(record.key)
        status = fulfillment_order_status(record.order, writes)
        if status not in HOLDABLE_STATUSES:
            return {**empty, "userErrors": [_error(
                ["id"], f"The fulfillment order's status is {status.lower()}: only open fulfillment orders can be "
                        "placed on hold.")]}
        given = args["fulfillmentHold"]
        handle = given.get("handle") or ""
        mine = [h for h in (writes.holds if writes else []) if h.app == app]
        if any(h.handle == handle for h in mine):
            return {**empty, "userErrors": [_error(
                ["fulfillmentHold", "handle"], "The handle provided for the fulfillment hold is already in use by "
                "this app for another hold on this fulfillment order.", "DUPLICATE_FULFILLMENT_HOLD_HANDLE")]}
        if len(mine) >= MAX_HOLDS_PER_APP:
            return {**empty, "userErrors": [_error(
                ["id"], f"The maximum number of fulfillment holds for this fulfillment order has been reached for "
                f"this app. An app can only have up to {MAX_HOLDS_PER_APP} holds on a single fulfillment order at "
                "any one time.", "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED")]}
        hold = FulfillmentHoldRecord(self.store.next_id("FulfillmentHold"), handle, given["reason"],
                                     given.get("reasonNotes"), app or "", given.get("externalId"))
        writes = self.store.writes(record.key)
        writes.holds.append(hold)
        now = self.store.now()
        writes.fulfillment_updated = now
        self.store.record_change(record, now)
        return {"fulfillmentHold": hold_view(hold, app),
                "fulfillmentOrder": fulfillment_order_view(record, writes, app),
                "remainingFulfillmentOrder": None, "userErrors": []}

    def _release_hold(self, args: dict[str, Any], app: str | None, _order_view: OrderView) -> dict[str, Any]:
        record = self._fulfillment_order(args["id"])
        if record is None:
            return {"fulfillmentOrder": None, "userErrors": [_error(
                ["id"], "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")]}
        writes = self.store.peek_writes(record.key)
        holds = list(writes.holds) if writes else []
        if args.get("holdIds") is None:
            # No ids: release every hold this app placed on the fulfillment order.
            chosen = [h for h in holds if h.app == app]
        else:
            by_id = {f"{FULFILLMENT_HOLD_GID}{h.id}": h for h in holds}
            unknown = [gid for gid in args["holdIds"] if gid not in by_id]
            if unknown:
                return {"fulfillmentOrder": None, "userErrors": [_error(
                    ["holdIds"], f"Could not find fulfillment holds with ids {', '.join(unknown)} on this "
                    "fulfillment order.")]}
            chosen = [by_id[gid] for gid in dict.fromkeys(args["holdIds"])]
            if any(h.app != app for h in chosen):
                return {"fulfillmentOrder": None, "userErrors": [_error(
                    ["holdIds"], "The app doesn't have access to release holds placed by another app.",
                    "INVALID_ACCESS")]}
        if not chosen:
            return {"fulfillmentOrder": None, "userErrors": [_error(["id"], "The fulfillment order is not on hold.")]}
        released = {h.id for h in chosen}
        writes = self.store.writes(record.key)
        writes.holds = [h for h in writes.holds if h.id not in released]
        now = self.store.now()
        writes.fulfillment_updated = now
        self.store.record_change(record, now)
        return {"fulfillmentOrder": fulfillment_order_view(record, writes, app), "userErrors": []}
