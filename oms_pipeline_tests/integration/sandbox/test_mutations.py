"""Shopify's writeback mutations in the sandbox, over real HTTP: each one's effect read back, Shopify's
userErrors for bad input (atomic where Shopify is), updated_at bumps, mutation cost and throttling."""

from __future__ import annotations

import pytest

from oms_pipeline.domain.orders import parse_time
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline_tests.support.sandbox_http import client, gql

TAGS_ADD = """mutation($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id ... on Order { tags updatedAt } } userErrors { field message } }
}"""
ORDER_UPDATE = """mutation($input: OrderInput!) {
  orderUpdate(input: $input) { order { id tags note updatedAt } userErrors { field message } }
}"""
METAFIELDS_SET = """mutation($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key type value compareDigest }
    userErrors { field message code elementIndex }
  }
}"""
HOLD = """mutation($id: ID!, $hold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $hold) {
    fulfillmentHold { id handle reason reasonNotes heldByRequestingApp }
    fulfillmentOrder { id status }
    userErrors { field message code }
  }
}"""
RELEASE = """mutation($id: ID!, $holdIds: [ID!]) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
    fulfillmentOrder { id status fulfillmentHolds { id } }
    userErrors { field message code }
  }
}"""
READ_BACK = """query($id: ID!) {
  order(id: $id) {
    tags note updatedAt displayFulfillmentStatus
    triage: metafield(namespace: "oms", key: "triage") { type value }
    metafields(first: 10, namespace: "oms") { nodes { key value } }
    fulfillmentOrders(first: 5) {
      nodes { id status fulfillmentHolds { id handle reason reasonNotes heldByRequestingApp } }
    }
  }
}"""


@pytest.fixture(scope="module")
def sandbox():
    store = SandboxStore(seed=21, orders=40, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, restore_rate=100_000.0, seed=1) as server:
        yield server


@pytest.fixture(scope="module")
def http(sandbox):
    with client(sandbox) as h:
        yield h


def _open_orders(store: SandboxStore) -> list[str]:
    """Ids of orders whose fulfillment order is open (neither fulfilled nor cancelled)."""
    with store.lock:
        return [str(r.key) for r in store.records()
                if r.order["cancelled_at"] is None and r.order["fulfillment_status"] is None]


@pytest.fixture(scope="module")
def open_orders(sandbox):
    return iter(_open_orders(sandbox.store))


@pytest.fixture
def order_id(open_orders):
    """A different open order per test, so tests do not see each other's writes."""
    return next(open_orders)


def _gid(order_id: str) -> str:
    return f"gid://shopify/Order/{order_id}"


def _data(answer: dict, root: str) -> dict:
    assert "errors" not in answer, answer
    return answer["data"][root]


def _fulfillment_order(http, order_id: str) -> str:
    nodes = _data(gql(http, READ_BACK, {"id": _gid(order_id)}), "order")["fulfillmentOrders"]["nodes"]
    assert len(nodes) == 1
    return nodes[0]["id"]


def test_tags_add_appends_and_order_update_replaces(sandbox, http, order_id):
    before = sandbox.store.writeback_state(order_id)["tags"]
    payload = _data(gql(http, TAGS_ADD, {"id": _gid(order_id), "tags": ["oms:flagged", "oms:review, Oms:Flagged"]}),
                    "tagsAdd")
    assert payload["userErrors"] == []
    tags = payload["node"]["tags"]
    assert set(before) <= set(tags) and {"oms:flagged", "oms:review"} <= set(tags)
    assert len([t for t in tags if t.lower() == "oms:flagged"]) == 1, "a tag already there is kept once"
    assert sandbox.store.writeback_state(order_id)["tags"] == tags

    payload = _data(gql(http, ORDER_UPDATE, {"input": {"id": _gid(order_id), "tags": ["only-this"],
                                                       "note": "checked by oms"}}), "orderUpdate")
    assert payload["userErrors"] == []
    assert payload["order"]["tags"] == ["only-this"] and payload["order"]["note"] == "checked by oms"
    state = sandbox.store.writeback_state(order_id)
    assert state["tags"] == ["only-this"] and state["note"] == "checked by oms"


def test_successful_writes_bump_updated_at_and_show_in_rest(sandbox, http, order_id):
    before = parse_time(sandbox.store.current_versions()[order_id])
    updated = _data(gql(http, TAGS_ADD, {"id": _gid(order_id), "tags": ["oms:bumped"]}), "tagsAdd")["node"]["updatedAt"]
    assert parse_time(updated) > before
    assert parse_time(sandbox.store.current_versions()[order_id]) == parse_time(updated)
    rest = http.get(f"/admin/api/2025-01/orders/{order_id}.json").json()["order"]
    assert "oms:bumped" in rest["tags"] and parse_time(rest["updated_at"]) == parse_time(updated)


def test_tag_user_errors(sandbox, http, order_id):
    unknown = _data(gql(http, TAGS_ADD, {"id": "gid://shopify/Order/1", "tags": ["x"]}), "tagsAdd")
    assert unknown["node"] is None and unknown["userErrors"][0]["field"] == ["id"]
    before = sandbox.store.writeback_state(order_id)
    blank = _data(gql(http, TAGS_ADD, {"id": _gid(order_id), "tags": ["ok", " "]}), "tagsAdd")
    assert blank["node"] is None and blank["userErrors"][0]["field"] == ["tags"]
    assert sandbox.store.writeback_state(order_id) == before, "nothing applied"
    missing = _data(gql(http, ORDER_UPDATE, {"input": {"id": "gid://shopify/Order/2", "note": "x"}}), "orderUpdate")
    assert missing["order"] is None and missing["userErrors"][0]["field"] == ["id"]
    # Not a global id at all: a top-level error on that field, like a bad id in a query.
    answer = gql(http, TAGS_ADD, {"id": "12345", "tags": ["x"]})
    assert answer["data"]["tagsAdd"] is None
    assert answer["errors"][0]["extensions"]["code"] == "argumentLiteralsIncompatible"


def test_metafields_set_and_read_back(sandbox, http, order_id):
    metafields = [{"ownerId": _gid(order_id), "namespace": "oms", "key": "triage", "type": "json",
                   "value": '{"segment": "flagged", "score": 0.82}'},
                  {"ownerId": _gid(order_id), "namespace": "oms", "key": "fraud_score", "type": "number_decimal",
                   "value": "0.82"}]
    payload = _data(gql(http, METAFIELDS_SET, {"metafields": metafields}), "metafieldsSet")
    assert payload["userErrors"] == []
    assert [m["key"] for m in payload["metafields"]] == ["triage", "fraud_score"]
    order = _data(gql(http, READ_BACK, {"id": _gid(order_id)}), "order")
    assert order["triage"] == {"type": "json", "value": '{"segment": "flagged", "score": 0.82}'}
    assert {m["key"] for m in order["metafields"]["nodes"]} == {"triage", "fraud_score"}
    assert sandbox.store.writeback_state(order_id)["metafields"]["oms.fraud_score"] == {
        "type": "number_decimal", "value": "0.82"}
    # compareDigest: a write based on a stale read is refused.
    stale = dict(metafields[1], value="0.9", compareDigest="not-the-digest")
    refused = _data(gql(http, METAFIELDS_SET, {"metafields": [stale]}), "metafieldsSet")
    assert refused["userErrors"][0]["code"] == "STALE_OBJECT"


def test_metafields_set_is_atomic(sandbox, http, order_id):
    good = {"ownerId": _gid(order_id), "namespace": "oms", "key": "k00", "type": "single_line_text_field",
            "value": "v"}
    too_many = [dict(good, key=f"k{i:02d}") for i in range(26)]
    payload = _data(gql(http, METAFIELDS_SET, {"metafields": too_many}), "metafieldsSet")
    assert payload["metafields"] is None
    assert payload["userErrors"][0]["code"] == "LESS_THAN_OR_EQUAL_TO"
    assert sandbox.store.writeback_state(order_id)["metafields"] == {}

    bad = [good, dict(good, key="flag", type="boolean", value="yes"), dict(good, key="kind", type="no_such_type"),
           dict(good, key="x", value="")]
    payload = _data(gql(http, METAFIELDS_SET, {"metafields": bad}), "metafieldsSet")
    codes = {(e["elementIndex"], e["code"]) for e in payload["userErrors"]}
    assert codes == {(1, "INVALID_VALUE"), (2, "INVALID_TYPE"), (3, "TOO_SHORT"), (3, "BLANK")}
    assert payload["userErrors"][0]["field"] == ["metafields", "1", "value"]
    assert sandbox.store.writeback_state(order_id)["metafields"] == {}, "one bad input: nothing saved"

    unknown_owner = [dict(good, ownerId="gid://shopify/Order/3")]
    payload = _data(gql(http, METAFIELDS_SET, {"metafields": unknown_owner}), "metafieldsSet")
    assert payload["userErrors"][0]["field"] == ["metafields", "0", "ownerId"]


def test_holds_and_releases(sandbox, http, order_id):
    fulfillment_order = _fulfillment_order(http, order_id)
    before = parse_time(sandbox.store.current_versions()[order_id])
    held = _data(gql(http, HOLD, {"id": fulfillment_order, "hold": {
        "reason": "HIGH_RISK_OF_FRAUD", "handle": "oms-fraud", "reasonNotes": "score 0.91"}}), "fulfillmentOrderHold")
    assert held["userErrors"] == []
    hold = held["fulfillmentHold"]
    assert hold["id"].startswith("gid://shopify/FulfillmentHold/") and hold["heldByRequestingApp"] is True
    assert held["fulfillmentOrder"] == {"id": fulfillment_order, "status": "ON_HOLD"}
    order = _data(gql(http, READ_BACK, {"id": _gid(order_id)}), "order")
    assert order["displayFulfillmentStatus"] == "ON_HOLD"
    assert order["fulfillmentOrders"]["nodes"][0]["fulfillmentHolds"] == [
        {"id": hold["id"], "handle": "oms-fraud", "reason": "HIGH_RISK_OF_FRAUD", "reasonNotes": "score 0.91",
         "heldByRequestingApp": True}]
    assert parse_time(order["updatedAt"]) > before

    second = _data(gql(http, HOLD, {"id": fulfillment_order, "hold": {"reason": "INCORRECT_ADDRESS",
                                                                      "handle": "oms-address"}}),
                   "fulfillmentOrderHold")["fulfillmentHold"]
    released = _data(gql(http, RELEASE, {"id": fulfillment_order, "holdIds": [hold["id"]]}),
                     "fulfillmentOrderReleaseHold")
    assert released["userErrors"] == []
    assert released["fulfillmentOrder"]["status"] == "ON_HOLD", "one hold remains"
    assert released["fulfillmentOrder"]["fulfillmentHolds"] == [{"id": second["id"]}]
    released = _data(gql(http, RELEASE, {"id": fulfillment_order, "holdIds": [second["id"]]}),
                     "fulfillmentOrderReleaseHold")
    assert released["fulfillmentOrder"]["status"] == "OPEN"
    state = sandbox.store.writeback_state(order_id)
    assert state["holds"] == [] and state["fulfillment_order"]["status"] == "OPEN"
    root = gql(http, "query($id: ID!) { fulfillmentOrder(id: $id) { id status orderId } }", {"id": fulfillment_order})
    assert root["data"]["fulfillmentOrder"] == {"id": fulfillment_order, "status": "OPEN", "orderId": _gid(order_id)}


def test_hold_user_errors(sandbox, http, order_id):
    fulfillment_order = _fulfillment_order(http, order_id)

    def hold(handle: str, fo: str = fulfillment_order) -> dict:
        return _data(gql(http, HOLD, {"id": fo, "hold": {"reason": "OTHER", "handle": handle}}),
                     "fulfillmentOrderHold")

    assert all(hold(f"h{i}")["userErrors"] == [] for i in range(10))
    eleventh = hold("h10")
    assert eleventh["fulfillmentHold"] is None
    assert eleventh["userErrors"][0]["code"] == "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED"
    duplicate = hold("h3")
    assert duplicate["userErrors"][0]["code"] == "DUPLICATE_FULFILLMENT_HOLD_HANDLE"
    assert duplicate["userErrors"][0]["field"] == ["fulfillmentHold", "handle"]
    assert len(sandbox.store.writeback_state(order_id)["holds"]) == 10

    unknown = hold("x", fo="gid://shopify/FulfillmentOrder/999")
    assert unknown["userErrors"][0]["code"] == "FULFILLMENT_ORDER_NOT_FOUND"
    with sandbox.store.lock:
        closed = next(str(r.key) for r in sandbox.store.records() if r.order["fulfillment_status"] == "fulfilled")
    refused = hold("x", fo=_fulfillment_order(http, closed))
    assert refused["fulfillmentHold"] is None and refused["userErrors"][0]["field"] == ["id"]

    known = sandbox.store.writeback_state(order_id)["holds"][0]["id"]
    release = _data(gql(http, RELEASE, {"id": fulfillment_order,
                                        "holdIds": [known, "gid://shopify/FulfillmentHold/999999"]}),
                    "fulfillmentOrderReleaseHold")
    assert release["fulfillmentOrder"] is None and release["userErrors"][0]["field"] == ["holdIds"]
    assert len(sandbox.store.writeback_state(order_id)["holds"]) == 10, "nothing released"
    # No hold ids: every hold this app placed is released.
    release = _data(gql(http, RELEASE, {"id": fulfillment_order}), "fulfillmentOrderReleaseHold")
    assert release["userErrors"] == [] and release["fulfillmentOrder"]["status"] == "OPEN"


def test_mutation_costs_ten_points_and_is_counted(sandbox, http, order_id):
    stats_before = sandbox.store.stats
    answer = gql(http, TAGS_ADD, {"id": _gid(order_id), "tags": ["oms:cost"]})
    cost = answer["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 10 and cost["actualQueryCost"] == 10
    two = gql(http, """mutation($id: ID!) { a: tagsAdd(id: $id, tags: ["a"]) { userErrors { message } }
                                             b: tagsAdd(id: $id, tags: ["b"]) { userErrors { message } } }""",
              {"id": _gid(order_id)})
    assert two["extensions"]["cost"]["requestedQueryCost"] == 20
    stats = sandbox.store.stats
    assert stats["mutations"] - stats_before.get("mutations", 0) == 3
    assert stats["mutation_tagsAdd"] - stats_before.get("mutation_tagsAdd", 0) == 3


def test_mutation_on_an_empty_bucket_is_throttled_and_changes_nothing():
    store = SandboxStore(seed=3, orders=5, rate_per_min=0.0, malformed_rate=0.0)
    order_id = _open_orders(store)[0]
    with SandboxServer(store, bucket_size=25, restore_rate=0.0, seed=1) as sandbox, client(sandbox) as http:
        answers = [gql(http, TAGS_ADD, {"id": _gid(order_id), "tags": [f"t{i}"]}) for i in range(3)]
    assert "errors" not in answers[0] and "errors" not in answers[1]
    assert answers[2]["errors"][0]["extensions"]["code"] == "THROTTLED" and "data" not in answers[2]
    tags = store.writeback_state(order_id)["tags"]
    assert {"t0", "t1"} <= set(tags) and "t2" not in tags
    assert store.stats["throttled_graphql"] == 1


def test_faulted_mutations_change_nothing():
    store = SandboxStore(seed=3, orders=5, rate_per_min=0.0, malformed_rate=0.0)
    order_id = _open_orders(store)[0]
    before = store.writeback_state(order_id)
    with SandboxServer(store, faults=1.0, timeout_fault_s=0.05, seed=2) as sandbox, client(sandbox) as http:
        statuses = {http.post("/admin/api/2025-01/graphql.json",
                              json={"query": TAGS_ADD, "variables": {"id": _gid(order_id), "tags": ["x"]}}).status_code
                    for _ in range(12)}
    assert statuses <= {429, 500, 502, 504}
    assert store.writeback_state(order_id) == before
    assert store.stats.get("mutations", 0) == 0
