"""Carrying actions out: Shopify mutations, Slack messages, Zendesk tickets.

Each write is made safe to repeat where the system gives a way: ``tagsAdd`` appends (adding a tag
twice leaves one), ``metafieldsSet`` overwrites, a hold is looked up by its handle before it is
placed, a release finds its hold by handle, a note line is written only when the note read just
before does not already carry it, and a Zendesk ticket carries the ledger key as its
``Idempotency-Key``. A 3PL handoff is ShipStation's ``createorder``, which upserts on ``orderKey``.
So a key a killed run left ``pending`` can simply be sent again. A Slack message cannot: when its
answer is lost the result is ``uncertain`` and the gateway asks an operator.
"""

from __future__ import annotations

from typing import Any

from oms_pipeline.connectors.notifications import SlackAnswerLost, SlackWebhook, SlackWebhookError, ZendeskTickets
from oms_pipeline.connectors.shipstation import ShipStationClient, ShipStationError
from oms_pipeline.connectors.shopify import load_document
from oms_pipeline.connectors.shopify_writeback import MutationResult, ShopifyWriteback, order_gid
from oms_pipeline.domain.decisions.decide import note_with_line
from oms_pipeline.domain.writeback.actions import ActionKind, WriteAction
from oms_pipeline.gateway.gateway import ExecutionResult

_STORE_KINDS = frozenset({ActionKind.ADD_TAGS, ActionKind.SET_METAFIELDS, ActionKind.PLACE_HOLD,
                          ActionKind.RELEASE_HOLD, ActionKind.UPDATE_NOTE})
_HOLDABLE = ("OPEN", "ON_HOLD")  # Shopify holds only open (or already held) fulfillment orders


def _from_mutation(result: MutationResult, ref: str | None = None) -> ExecutionResult:
    if result.ok:
        return ExecutionResult("done", "", ref)
    errors = "; ".join(f"{'.'.join(e.field or ())}: {e.message}" for e in result.user_errors)
    return ExecutionResult("rejected", errors)


class StoreExecutor:
    """Executes actions on one Shopify store and the configured alert channels."""

    def __init__(self, store: ShopifyWriteback | None, slack: SlackWebhook | None = None,
                 zendesk: ZendeskTickets | None = None, tpl: ShipStationClient | None = None):
        self.store = store
        self.slack = slack
        self.zendesk = zendesk
        self.tpl = tpl

    def supports(self, kind: ActionKind) -> bool:
        """Whether a channel for ``kind`` is configured."""
        if kind in _STORE_KINDS:
            return self.store is not None
        if kind is ActionKind.CHAT_ALERT:
            return self.slack is not None
        if kind is ActionKind.HELPDESK_TICKET:
            return self.zendesk is not None
        if kind is ActionKind.HANDOFF_TO_3PL:
            return self.tpl is not None
        return False  # cancel / refund: no executor (policy refuses them before this is asked)

    def execute(self, action: WriteAction) -> ExecutionResult:
        """Send one action; raises when the system cannot be reached after the client's retries."""
        p = action.payload
        kind = action.kind
        if kind is ActionKind.ADD_TAGS:
            return _from_mutation(self.store.add_tags(action.order_id, p["tags"]))
        if kind is ActionKind.SET_METAFIELDS:
            values = {key: (typ, value) for key, (typ, value) in p["metafields"].items()}
            return _from_mutation(self.store.set_metafields(action.order_id, values, namespace=p["namespace"]))
        if kind is ActionKind.UPDATE_NOTE:
            return self._note_line(action)
        if kind is ActionKind.PLACE_HOLD:
            return self._place_hold(action)
        if kind is ActionKind.RELEASE_HOLD:
            return self._release_hold(action)
        if kind is ActionKind.CHAT_ALERT:
            try:
                self.slack.post(p["text"])
            except SlackAnswerLost as lost:
                return ExecutionResult("uncertain", str(lost))
            except SlackWebhookError as refused:
                return ExecutionResult("rejected", str(refused)[:500])
            return ExecutionResult("done", "posted")
        if kind is ActionKind.HELPDESK_TICKET:
            ticket = self.zendesk.create_ticket(p["subject"], p["body"], tags=p["tags"], external_id=p["external_id"],
                                                idempotency_key=action.idempotency_key)
            return ExecutionResult("done", f"ticket {ticket}", str(ticket))
        if kind is ActionKind.HANDOFF_TO_3PL:
            return self._handoff(action)
        raise ValueError(f"no executor for {kind.value}")

    def _note_line(self, action: WriteAction) -> ExecutionResult:
        """Our ``[oms]`` line under the customer's part of the note as the store has it now; nothing is
        written when the note already reads so (an earlier attempt whose answer was lost)."""
        p = action.payload
        # Intents recorded before the line was kept apart carry the whole note: its last line is ours.
        line = p["line"] if "line" in p else p["note"].splitlines()[-1]
        try:
            current = self.store.note(action.order_id)
        except KeyError:
            return ExecutionResult("rejected", f"order {action.order_id} is not in the store")
        wanted = note_with_line(current, line)
        if current == wanted:
            return ExecutionResult("done", "the note already carries the line")
        return _from_mutation(self.store.update_note(action.order_id, wanted))

    def _place_hold(self, action: WriteAction) -> ExecutionResult:
        p = action.payload
        orders = self.store.fulfillment_orders(action.order_id)
        for fulfillment_order in orders:
            for hold_id, handle, _reason in fulfillment_order.holds:
                if handle == p["handle"]:  # placed by an earlier attempt whose answer was lost
                    return ExecutionResult("done", "already held", hold_id)
        holdable = [fo for fo in orders if fo.status in _HOLDABLE]
        if not holdable:
            statuses = ", ".join(sorted({fo.status for fo in orders})) or "none"
            return ExecutionResult("rejected", f"no open fulfillment order to hold (status: {statuses})")
        fulfillment_order = holdable[0]
        result = self.store.hold(fulfillment_order.id, p["reason"], p["handle"], p["reason_notes"])
        hold = (result.data.get("fulfillmentHold") or {}) if result.ok else {}
        return _from_mutation(result, hold.get("id"))

    def _release_hold(self, action: WriteAction) -> ExecutionResult:
        handle = action.payload["handle"]
        for fulfillment_order in self.store.fulfillment_orders(action.order_id):
            for hold_id, hold_handle, _reason in fulfillment_order.holds:
                if hold_handle == handle:
                    return _from_mutation(self.store.release_holds(fulfillment_order.id, [hold_id]), hold_id)
        return ExecutionResult("done", "no such hold in the store (not placed, or released already)")

    def _handoff(self, action: WriteAction) -> ExecutionResult:
        """ShipStation upserts on ``orderKey``: a resend after a lost answer updates the same order.

        The action carries no personal data (it is audited): the addresses and email are read from
        the store at send time and merged into the body.
        """
        body = dict(action.payload)
        if self.store is not None:
            body.update(self._contact(action.order_id, body))
        try:
            order = self.tpl.create_order(body)
        except ShipStationError as refused:
            if refused.status in (401, 403):
                raise  # bad credentials: the system is not reachable for us, keep the key pending
            return ExecutionResult("rejected", str(refused)[:500])
        return ExecutionResult("done", f"3PL order {order.get('orderId')}", str(order.get("orderId")))

    def _contact(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``shipTo``, ``billTo`` and ``customerEmail`` of the order as the store has it now."""
        data = self.store.client.graphql(load_document("writeback/order_addresses.graphql"),
                                         {"id": order_gid(order_id)}, "OrderAddresses")
        order = data.get("order") or {}
        ship = order.get("shippingAddress")
        bill = order.get("billingAddress") or ship
        out: dict[str, Any] = {}
        if ship:
            out["shipTo"] = {**body.get("shipTo", {}), **_shipstation_address(ship, body.get("orderNumber", ""))}
        if bill:
            out["billTo"] = {**body.get("billTo", {}), **_shipstation_address(bill, body.get("orderNumber", ""))}
        if order.get("email"):
            out["customerEmail"] = order["email"]
        return out


def _shipstation_address(address: dict[str, Any], fallback_name: str) -> dict[str, Any]:
    name = " ".join(p for p in (address.get("firstName"), address.get("lastName")) if p) or fallback_name
    return {"name": name, "company": address.get("company"), "street1": address.get("address1"),
            "street2": address.get("address2"), "city": address.get("city"),
            "state": address.get("provinceCode") or address.get("province"), "postalCode": address.get("zip"),
            "country": address.get("countryCodeV2"), "phone": address.get("phone"),
            "residential": address.get("company") is None}
