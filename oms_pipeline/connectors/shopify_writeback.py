"""Writing decisions back to a Shopify store: order tags, note, metafields and fulfillment holds.

Every call goes through ``ShopifyClient.graphql`` and so shares its pacing on the cost bucket (a
mutation costs 10 points), its THROTTLED handling and its retries on 429/5xx/timeouts, honouring
``Retry-After``; when retries run out it raises ``TransientHTTPError``. What Shopify refuses as bad
input comes back as ``userErrors`` in a ``MutationResult``, never as an exception: the caller (the
writeback gateway) decides what a refusal means.

Order ids are the numeric ids the pipeline uses (``"5718921449652"``); global ids are made here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oms_pipeline.connectors.shopify import ShopifyClient, load_document

MAX_METAFIELDS_PER_CALL = 25
ORDER_GID = "gid://shopify/Order/"


@dataclass(frozen=True)
class UserError:
    """One entry of a mutation's ``userErrors``: the input path, Shopify's message and code (if any)."""

    field: tuple[str, ...] | None
    message: str
    code: str | None = None

    @classmethod
    def from_payload(cls, error: Mapping[str, Any]) -> UserError:
        """From the GraphQL ``userErrors`` element."""
        path = error.get("field")
        return cls(tuple(str(p) for p in path) if path is not None else None, str(error.get("message")),
                   error.get("code"))


@dataclass(frozen=True)
class MutationResult:
    """A mutation's payload (``data``, e.g. ``{"fulfillmentHold": {...}, ...}``) and its user errors."""

    data: dict[str, Any]
    user_errors: tuple[UserError, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether Shopify accepted the mutation (no user errors)."""
        return not self.user_errors


@dataclass(frozen=True)
class FulfillmentOrderView:
    """A fulfillment order as the writeback needs it: id, status and holds as (id, handle, reason)."""

    id: str
    status: str
    holds: tuple[tuple[str, str | None, str], ...] = ()


def order_gid(order_id: str | int) -> str:
    """``"5718921449652"`` -> ``"gid://shopify/Order/5718921449652"`` (a global id passes through)."""
    text = str(order_id)
    if text.startswith("gid://"):
        return text
    if not text.isdigit():
        raise ValueError(f"not a Shopify order id: {order_id!r}")
    return f"{ORDER_GID}{text}"


class ShopifyWriteback:
    """The store's writeback mutations over one ``ShopifyClient`` (which owns the connection)."""

    def __init__(self, client: ShopifyClient):
        self.client = client

    def _mutate(self, document: str, operation: str, root: str, variables: dict[str, Any]) -> MutationResult:
        data = self.client.graphql(load_document(f"writeback/{document}"), variables, operation)
        payload = data.get(root) or {}
        errors = tuple(UserError.from_payload(e) for e in payload.get("userErrors") or ())
        return MutationResult(data=payload, user_errors=errors)

    def add_tags(self, order_id: str, tags: Sequence[str]) -> MutationResult:
        """Append ``tags`` to the order (``tagsAdd``: existing tags stay; a tag already there is kept once)."""
        return self._mutate("add_order_tags.graphql", "AddOrderTags", "tagsAdd",
                            {"id": order_gid(order_id), "tags": list(tags)})

    def set_metafields(self, order_id: str, values: Mapping[str, tuple[str, str]],
                       namespace: str = "oms") -> MutationResult:
        """Set the order's metafields ``{key: (type, value)}`` in ``namespace`` (all or none).

        Raises ``ValueError`` before sending when there are more than Shopify's 25 per call.
        """
        if len(values) > MAX_METAFIELDS_PER_CALL:
            raise ValueError(f"{len(values)} metafields: Shopify sets at most {MAX_METAFIELDS_PER_CALL} per call")
        owner = order_gid(order_id)
        metafields = [{"ownerId": owner, "namespace": namespace, "key": key, "type": kind, "value": value}
                      for key, (kind, value) in values.items()]
        return self._mutate("set_order_metafields.graphql", "SetOrderMetafields", "metafieldsSet",
                            {"metafields": metafields})

    def update_note(self, order_id: str, note: str) -> MutationResult:
        """Replace the order's note (``orderUpdate``)."""
        return self._mutate("update_order_note.graphql", "UpdateOrderNote", "orderUpdate",
                            {"input": {"id": order_gid(order_id), "note": note}})

    def note(self, order_id: str) -> str | None:
        """The order's note as the store has it now; raises ``KeyError`` for an unknown order."""
        data = self.client.graphql(load_document("writeback/order_note.graphql"), {"id": order_gid(order_id)},
                                   "OrderNote")
        order = data.get("order")
        if order is None:
            raise KeyError(f"no order {order_id} in {self.client.shop_domain}")
        return order.get("note")

    def fulfillment_orders(self, order_id: str) -> list[FulfillmentOrderView]:
        """The order's fulfillment orders with their holds (empty if the order does not exist)."""
        data = self.client.graphql(load_document("writeback/order_fulfillment_orders.graphql"),
                                   {"id": order_gid(order_id)}, "OrderFulfillmentOrders")
        order = data.get("order")
        if not order:
            return []
        return [_fulfillment_order_view(node) for node in order["fulfillmentOrders"]["nodes"]]

    def hold(self, fulfillment_order_id: str, reason: str, handle: str, reason_notes: str) -> MutationResult:
        """Place a hold (``reason`` is a ``FulfillmentHoldReason``, e.g. ``HIGH_RISK_OF_FRAUD``).

        ``handle`` must be unique among this app's holds on the fulfillment order: a second hold
        with the same handle is refused (``DUPLICATE_FULFILLMENT_HOLD_HANDLE``), which is how a caller
        that lost an answer recognises its own earlier hold.
        """
        hold = {"reason": reason, "handle": handle, "reasonNotes": reason_notes}
        return self._mutate("hold_fulfillment_order.graphql", "HoldFulfillmentOrder", "fulfillmentOrderHold",
                            {"id": fulfillment_order_id, "fulfillmentHold": hold})

    def release_holds(self, fulfillment_order_id: str, hold_ids: Sequence[str]) -> MutationResult:
        """Release the holds ``hold_ids`` (global ids) on the fulfillment order."""
        return self._mutate("release_fulfillment_holds.graphql", "ReleaseFulfillmentHolds",
                            "fulfillmentOrderReleaseHold", {"id": fulfillment_order_id, "holdIds": list(hold_ids)})

    def order_writeback_state(self, order_id: str, namespace: str = "oms") -> dict[str, Any]:
        """What the store holds of our writes, read back over GraphQL to verify them.

        ``{"tags": [...], "note": ..., "metafields": {key: (type, value)}, "holds": [(id, handle, reason)],
        "fulfillment_orders": [FulfillmentOrderView], "updated_at": ...}``; raises ``KeyError`` for an
        unknown order.
        """
        data = self.client.graphql(load_document("writeback/order_writeback_state.graphql"),
                                   {"id": order_gid(order_id), "namespace": namespace}, "OrderWritebackState")
        order = data.get("order")
        if order is None:
            raise KeyError(f"no order {order_id} in {self.client.shop_domain}")
        fulfillment_orders = [_fulfillment_order_view(n) for n in order["fulfillmentOrders"]["nodes"]]
        return {
            "tags": list(order["tags"]),
            "note": order["note"],
            "metafields": {m["key"]: (m["type"], m["value"]) for m in order["metafields"]["nodes"]},
            "holds": [hold for fo in fulfillment_orders for hold in fo.holds],
            "fulfillment_orders": fulfillment_orders,
            "updated_at": order["updatedAt"],
        }


def _fulfillment_order_view(node: Mapping[str, Any]) -> FulfillmentOrderView:
    holds = tuple((h["id"], h.get("handle"), h["reason"]) for h in node.get("fulfillmentHolds") or ())
    return FulfillmentOrderView(id=node["id"], status=node["status"], holds=holds)
