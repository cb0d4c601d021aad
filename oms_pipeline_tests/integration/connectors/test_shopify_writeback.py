"""The Shopify writeback connector against the sandbox over real HTTP: each write applied and read
back, userErrors returned (not raised), and exactly-once effects with faults on."""

from __future__ import annotations

import pytest

from oms_pipeline.connectors.http import TransientHTTPError
from oms_pipeline.connectors.shopify import ShopifyClient
from oms_pipeline.connectors.shopify_writeback import MutationResult, ShopifyWriteback, UserError
from oms_pipeline.domain.orders import parse_time
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore


def _open_orders(store: SandboxStore) -> list[str]:
    with store.lock:
        return [str(r.key) for r in store.records()
                if r.order["cancelled_at"] is None and r.order["fulfillment_status"] is None]


@pytest.fixture(scope="module")
def sandbox():
    store = SandboxStore(seed=31, orders=30, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, restore_rate=100_000.0, seed=1) as server:
        yield server


@pytest.fixture(scope="module")
def open_orders(sandbox):
    return iter(_open_orders(sandbox.store))


@pytest.fixture
def writeback(sandbox):
    with ShopifyClient(sandbox.url, sandbox.token, sandbox.shop_domain, timeout_s=5) as client:
        yield ShopifyWriteback(client)


def test_each_write_applies_and_reads_back(sandbox, writeback, open_orders):
    order_id = next(open_orders)
    before = writeback.order_writeback_state(order_id)

    result = writeback.add_tags(order_id, ["oms:flagged", "oms:review"])
    assert isinstance(result, MutationResult) and result.ok and result.user_errors == ()
    assert {"oms:flagged", "oms:review"} <= set(result.data["node"]["tags"])

    assert writeback.set_metafields(order_id, {"triage": ("json", '{"segment": "flagged"}'),
                                               "fraud_score": ("number_decimal", "0.91")}).ok
    assert writeback.update_note(order_id, "held by oms: fraud score 0.91").ok

    [fulfillment_order] = writeback.fulfillment_orders(order_id)
    assert fulfillment_order.status == "OPEN" and fulfillment_order.holds == ()
    held = writeback.hold(fulfillment_order.id, "HIGH_RISK_OF_FRAUD", "oms-fraud", "score 0.91")
    assert held.ok and held.data["fulfillmentOrder"]["status"] == "ON_HOLD"
    hold_id = held.data["fulfillmentHold"]["id"]
    assert writeback.fulfillment_orders(order_id)[0].holds == ((hold_id, "oms-fraud", "HIGH_RISK_OF_FRAUD"),)

    state = writeback.order_writeback_state(order_id)
    assert set(before["tags"]) | {"oms:flagged", "oms:review"} == set(state["tags"])
    assert state["note"] == "held by oms: fraud score 0.91"
    assert state["metafields"] == {"triage": ("json", '{"segment": "flagged"}'),
                                   "fraud_score": ("number_decimal", "0.91")}
    assert state["holds"] == [(hold_id, "oms-fraud", "HIGH_RISK_OF_FRAUD")]
    assert parse_time(state["updated_at"]) > parse_time(before["updated_at"])

    released = writeback.release_holds(fulfillment_order.id, [hold_id])
    assert released.ok and released.data["fulfillmentOrder"]["status"] == "OPEN"
    assert sandbox.store.writeback_state(order_id)["holds"] == []


def test_user_errors_are_returned_not_raised(writeback, open_orders):
    order_id = next(open_orders)
    [fulfillment_order] = writeback.fulfillment_orders(order_id)
    assert writeback.hold(fulfillment_order.id, "OTHER", "oms-1", "first").ok
    duplicate = writeback.hold(fulfillment_order.id, "OTHER", "oms-1", "again")
    assert not duplicate.ok
    assert duplicate.user_errors == (UserError(("fulfillmentHold", "handle"), duplicate.user_errors[0].message,
                                               "DUPLICATE_FULFILLMENT_HOLD_HANDLE"),)
    bad = writeback.set_metafields(order_id, {"flag": ("boolean", "maybe")})
    assert bad.user_errors[0].code == "INVALID_VALUE" and bad.user_errors[0].field == ("metafields", "0", "value")
    unknown = writeback.release_holds(fulfillment_order.id, ["gid://shopify/FulfillmentHold/999999"])
    assert not unknown.ok and unknown.user_errors[0].field == ("holdIds",)
    assert writeback.fulfillment_orders("1") == []
    assert not writeback.add_tags("1", ["x"]).ok


def test_more_than_25_metafields_are_refused_before_sending(sandbox, writeback, open_orders):
    order_id = next(open_orders)
    requests = sandbox.store.stats["requests"]
    with pytest.raises(ValueError, match="25"):
        writeback.set_metafields(order_id, {f"k{i}": ("single_line_text_field", "v") for i in range(26)})
    assert sandbox.store.stats["requests"] == requests
    with pytest.raises(ValueError):
        writeback.add_tags("not-an-id", ["x"])


def test_exhausted_retries_raise_transient_error():
    with SandboxServer(SandboxStore(seed=1, orders=3, rate_per_min=0.0), faults=1.0, timeout_fault_s=0.05,
                       seed=2) as sandbox:
        order_id = next(iter(sandbox.store.current_versions()))
        before = sandbox.store.writeback_state(order_id)
        with ShopifyClient(sandbox.url, sandbox.token, sandbox.shop_domain, timeout_s=2, max_attempts=3,
                           sleep=lambda _s: None) as client:
            with pytest.raises(TransientHTTPError):
                ShopifyWriteback(client).add_tags(order_id, ["x"])
        assert sandbox.store.writeback_state(order_id) == before
        assert sandbox.store.stats.get("mutations", 0) == 0


def test_faults_do_not_double_or_lose_writes():
    store = SandboxStore(seed=41, orders=30, rate_per_min=0.0, malformed_rate=0.0)
    orders = _open_orders(store)[:6]
    with SandboxServer(store, faults=0.2, timeout_fault_s=1.0, restore_rate=100_000.0, seed=5) as sandbox, \
            ShopifyClient(sandbox.url, sandbox.token, sandbox.shop_domain, timeout_s=0.5, max_attempts=12,
                          sleep=lambda _s: None) as client:
        writeback = ShopifyWriteback(client)
        for order_id in orders:
            assert writeback.add_tags(order_id, ["oms:checked"]).ok
            assert writeback.set_metafields(order_id, {"triage": ("single_line_text_field", "standard")}).ok
            assert writeback.update_note(order_id, f"oms checked {order_id}").ok
            [fulfillment_order] = writeback.fulfillment_orders(order_id)
            assert writeback.hold(fulfillment_order.id, "OTHER", "oms-review", "manual review").ok
        assert client.stats.retries > 0, "faults were injected and retried"
    stats = store.stats
    assert stats["faults"] > 0
    # Each write applied exactly once: one mutation per call reached the store and took effect.
    assert stats["mutations"] == 4 * len(orders) and stats.get("mutation_user_errors", 0) == 0
    for order_id in orders:
        state = store.writeback_state(order_id)
        assert state["tags"].count("oms:checked") == 1
        assert state["metafields"] == {"oms.triage": {"type": "single_line_text_field", "value": "standard"}}
        assert state["note"] == f"oms checked {order_id}"
        assert [h["handle"] for h in state["holds"]] == ["oms-review"]
