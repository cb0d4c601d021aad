"""The executor against the sandbox over HTTP: writes that are safe to send again after a lost answer
(holds by handle, note lines by marker, tickets by Idempotency-Key, 3PL orders by orderKey), and a Slack
message that is not."""

from __future__ import annotations

import pytest

from oms_pipeline.connectors.notifications import SlackWebhook, ZendeskTickets
from oms_pipeline.connectors.shipstation import ShipStationClient
from oms_pipeline.connectors.shopify import ShopifyClient
from oms_pipeline.connectors.shopify_writeback import ShopifyWriteback
from oms_pipeline.domain.writeback.actions import ActionKind, Workflow, WriteAction
from oms_pipeline.gateway.executors import StoreExecutor
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.shipstation import DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET
from oms_pipeline.sandbox.store import SandboxStore

SHOP = "oms-sandbox.myshopify.com"


@pytest.fixture(scope="module")
def sandbox():
    store = SandboxStore(seed=12, orders=12, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, restore_rate=100_000.0, seed=2, shipstation_rate_limit=1000) as server:
        yield server


@pytest.fixture
def executor(sandbox):
    n = sandbox.notifications
    with ShopifyClient(sandbox.url, sandbox.token, sandbox.shop_domain, timeout_s=5) as client, \
            SlackWebhook(sandbox.slack_webhook_url, timeout_s=5) as slack, \
            ZendeskTickets(sandbox.zendesk_url, n.zendesk_email, n.zendesk_api_token, timeout_s=5) as zendesk, \
            ShipStationClient(sandbox.url, DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET) as tpl:
        yield StoreExecutor(ShopifyWriteback(client), slack, zendesk, tpl)


def _open_order(sandbox, n: int) -> str:
    with sandbox.store.lock:
        return [str(r.key) for r in sandbox.store.records()
                if r.order["cancelled_at"] is None and r.order["fulfillment_status"] is None][n]


def _action(order_id: str, kind: ActionKind, payload: dict) -> WriteAction:
    return WriteAction(shop_domain=SHOP, order_id=order_id, order_version="v1", workflow=Workflow.NOTIFICATIONS,
                       kind=kind, payload=payload, trace_id="t")


def test_a_note_line_sent_again_is_not_written_twice_and_keeps_the_merchants_edit(sandbox, executor):
    order_id = _open_order(sandbox, 0)
    line = "[oms] exception: address does not validate"
    action = _action(order_id, ActionKind.UPDATE_NOTE, {"line": line})
    mutations = sandbox.store.stats.get("mutation_orderUpdate", 0)
    assert executor.execute(action).status == "done"
    # The answer was lost and the write is sent again: the note is read first and already carries it.
    again = executor.execute(action)
    assert (again.status, again.detail) == ("done", "the note already carries the line")
    assert sandbox.store.stats.get("mutation_orderUpdate", 0) == mutations + 1
    note = sandbox.store.writeback_state(order_id)["note"]
    assert note.count("[oms]") == 1 and note.endswith(line)
    # The merchant edits the note meanwhile: our line goes under their text, which stays.
    executor.store.update_note(order_id, "Gate code 1234, leave at the back")
    assert executor.execute(action).status == "done"
    assert sandbox.store.writeback_state(order_id)["note"] == f"Gate code 1234, leave at the back\n{line}"


def test_a_hold_a_ticket_and_a_3pl_order_sent_twice_exist_once(sandbox, executor):
    order_id = _open_order(sandbox, 1)
    hold = _action(order_id, ActionKind.PLACE_HOLD, {"handle": "oms-address", "reason": "INCORRECT_ADDRESS",
                                                     "rule_id": "address", "reason_notes": "n"})
    first, second = executor.execute(hold), executor.execute(hold)
    assert first.status == "done" and (second.status, second.detail) == ("done", "already held")
    assert [h["handle"] for h in sandbox.store.writeback_state(order_id)["holds"]] == ["oms-address"]
    ticket = _action(order_id, ActionKind.HELPDESK_TICKET, {"subject": "s", "body": "b", "tags": ["oms"],
                                                           "external_id": f"{SHOP}/{order_id}"})
    assert executor.execute(ticket).external_ref == executor.execute(ticket).external_ref
    assert [t["external_id"] for t in sandbox.notifications.tickets].count(f"{SHOP}/{order_id}") == 1
    body = {"orderNumber": "1001", "orderKey": order_id, "orderDate": "2026-11-24T12:00:00+00:00",
            "orderStatus": "awaiting_shipment", "billTo": {"name": "#1001"}, "shipTo": {"name": "#1001"},
            "items": [{"lineItemKey": "1", "sku": "MUG", "name": "Mug", "quantity": 1}]}
    handoff = _action(order_id, ActionKind.HANDOFF_TO_3PL, body)
    assert executor.execute(handoff).external_ref == executor.execute(handoff).external_ref
    assert sandbox.shipstation.get_order(order_id) is not None


def test_a_slack_message_whose_answer_is_lost_is_uncertain_not_posted_again(sandbox, executor):
    sandbox.faults.rate, sandbox.faults.timeout_s = 1.0, 1.0
    sandbox.faults.pick = lambda: "timeout"
    try:
        with SlackWebhook(sandbox.slack_webhook_url, timeout_s=0.2) as slack:
            result = StoreExecutor(executor.store, slack).execute(
                _action("1", ActionKind.CHAT_ALERT, {"text": "Order #1 cannot proceed", "rules": []}))
    finally:
        del sandbox.faults.pick
        sandbox.faults.rate = 0.0
    assert result.status == "uncertain" and "ReadTimeout" in result.detail
