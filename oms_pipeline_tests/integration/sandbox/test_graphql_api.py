"""The GraphQL Admin API over real HTTP: auth, paging (stable under concurrent updates), search,
Shopify-shaped errors, cost limits and throttling, and malformed values served verbatim."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from oms_pipeline.domain.orders import parse_time
from oms_pipeline.sandbox.graphql_api import gql_decimal
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline_tests.support.sandbox_http import GRAPHQL_PATH, client, gql

PAGE = """query Page($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id updatedAt } }
  }
}"""


def _scan(http, query: str | None = None, first: int = 25, on_page=None) -> list[tuple[str, str]]:
    seen, after, pages = [], None, 0
    while True:
        answer = gql(http, PAGE, {"first": first, "after": after, "query": query})
        assert "errors" not in answer, answer
        connection = answer["data"]["orders"]
        seen += [(e["node"]["id"], e["node"]["updatedAt"]) for e in connection["edges"]]
        pages += 1
        if on_page:
            on_page(pages)
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        after = connection["pageInfo"]["endCursor"]


def _truth(store: SandboxStore) -> set[tuple[str, object]]:
    return {(oid, parse_time(stamp)) for oid, stamp in store.current_versions().items()}


def _versions(seen) -> Counter:
    return Counter((gid.rsplit("/", 1)[-1], parse_time(stamp)) for gid, stamp in seen if gid)


@pytest.fixture(scope="module")
def sandbox():
    store = SandboxStore(seed=7, orders=120, rate_per_min=0.0, malformed_rate=0.05)
    with SandboxServer(store, seed=1) as server:
        yield server


def test_wrong_token_and_unknown_version(sandbox):
    with client(sandbox, token="shpat_wrong") as http:
        response = http.post(GRAPHQL_PATH, json={"query": "{ orders(first: 1) { nodes { id } } }"})
    assert response.status_code == 401
    assert response.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    with client(sandbox) as http:
        assert http.post("/admin/api/2019-01/graphql.json", json={"query": "{ shop { id } }"}).status_code == 404


def test_paging_serves_every_current_version_exactly_once(sandbox):
    with client(sandbox) as http:
        seen = _scan(http)
    versions = _versions(seen)
    assert set(versions) == _truth(sandbox.store) and max(versions.values()) == 1
    unidentified = [s for s in seen if s[0] is None]
    assert len(unidentified) == sum(1 for k in sandbox.store.malformed() if not k)
    stamps = [parse_time(s) for _, s in seen if s and s.endswith("Z")]
    assert stamps == sorted(stamps), "sorted by updatedAt"


def test_orders_changed_mid_scan_move_to_the_end_and_nothing_is_skipped():
    store = SandboxStore(seed=8, orders=100, rate_per_min=0.0, malformed_rate=0.0)
    before = _truth(store)
    with SandboxServer(store, seed=1) as sandbox, client(sandbox) as http:
        seen = _scan(http, first=10, on_page=lambda page: store.advance(8) if page in (2, 5) else None)
    versions = _versions(seen)
    assert max(versions.values()) == 1, "no version served twice"
    after = _truth(store)
    unchanged = before & after
    assert unchanged <= set(versions), "every order not changed mid-scan was served"
    changed = after - before
    assert changed and changed <= set(versions), "changed orders were served at their new place"


def test_search_query_filters_by_time(sandbox):
    stamps = sorted(parse_time(s) for s in sandbox.store.current_versions().values())
    middle = stamps[len(stamps) // 2].strftime("%Y-%m-%dT%H:%M:%SZ")
    with client(sandbox) as http:
        newer = _scan(http, query=f"updated_at:>='{middle}'")
        older = _scan(http, query=f"updated_at:<{middle}")
        strictly = _scan(http, query=f'updated_at:>"{middle}" AND created_at:<=\'{middle}\'')
    assert all(parse_time(s) >= parse_time(middle) for _, s in newer if s)
    assert all(parse_time(s) < parse_time(middle) for _, s in older if s)
    assert len(newer) + len(older) == len(_scan_all(sandbox))
    assert all(parse_time(s) > parse_time(middle) for _, s in strictly if s)
    assert len(strictly) < len(newer)


def _scan_all(sandbox):
    with client(sandbox) as http:
        return _scan(http)


def test_latest_change_probe_and_reverse(sandbox):
    with client(sandbox) as http:
        answer = gql(http, "{ orders(first: 1, sortKey: UPDATED_AT, reverse: true) { nodes { id updatedAt } } }")
    newest = answer["data"]["orders"]["nodes"][0]["updatedAt"]
    assert parse_time(newest) == max(parse_time(s) for s in sandbox.store.current_versions().values())


def test_projection_follows_the_selection(sandbox):
    query = """query One($id: ID!) {
      order(id: $id) {
        __typename
        gid: id
        ... on Order { name legacyResourceId }
        ...Money
        lineItems(first: 1) { edges { cursor node { __typename sku quantity } } pageInfo { hasNextPage } }
        customer { numberOfOrders tags }
      }
      missing: order(id: "gid://shopify/Order/1") { id }
    }
    fragment Money on Order { totalPriceSet { shopMoney { amount currencyCode } } tags displayFulfillmentStatus }"""
    record = next(r for r in sandbox.store.records()
                  if not r.faults and len(r.order["line_items"]) > 1 and r.order["customer"])
    with client(sandbox) as http:
        data = gql(http, query, {"id": f"gid://shopify/Order/{record.key}"})["data"]
    order = data["order"]
    assert list(order) == ["__typename", "gid", "name", "legacyResourceId", "totalPriceSet", "tags",
                           "displayFulfillmentStatus", "lineItems", "customer"]
    assert order["__typename"] == "Order" and order["legacyResourceId"] == str(record.key)
    assert order["totalPriceSet"]["shopMoney"]["amount"] == gql_decimal(record.order["total_price"])
    assert order["lineItems"]["edges"][0]["node"]["__typename"] == "LineItem"
    assert order["lineItems"]["pageInfo"]["hasNextPage"] is True
    assert isinstance(order["customer"]["numberOfOrders"], str) and isinstance(order["tags"], list)
    assert order["displayFulfillmentStatus"] in {"UNFULFILLED", "PARTIALLY_FULFILLED", "FULFILLED", "RESTOCKED"}
    assert data["missing"] is None


def test_line_items_page_with_after(sandbox):
    record = next(r for r in sandbox.store.records() if not r.faults and len(r.order["line_items"]) >= 3)
    query = """query($id: ID!, $after: String) { order(id: $id) {
      lineItems(first: 2, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } } }"""
    ids, after = [], None
    with client(sandbox) as http:
        while True:
            page = gql(http, query, {"id": f"gid://shopify/Order/{record.key}", "after": after})
            lines = page["data"]["order"]["lineItems"]
            ids += [n["id"] for n in lines["nodes"]]
            if not lines["pageInfo"]["hasNextPage"]:
                break
            after = lines["pageInfo"]["endCursor"]
    assert ids == [li["admin_graphql_api_id"] for li in record.order["line_items"]]


def test_malformed_values_are_served_verbatim():
    store = SandboxStore(seed=5, orders=1500, rate_per_min=0.0, malformed_rate=0.05)
    by_kind = {}
    for record in store.records():
        for kind in record.faults:
            by_kind.setdefault(kind, record)
    query = """query($id: ID!) { order(id: $id) { createdAt currencyCode
      totalPriceSet { shopMoney { amount currencyCode } } lineItems(first: 5) { nodes { quantity } } } }"""
    with SandboxServer(store, seed=1) as sandbox, client(sandbox) as http:
        def fetch(kind):
            return gql(http, query, {"id": f"gid://shopify/Order/{by_kind[kind].key}"})["data"]["order"]

        assert fetch("quantity_not_integer")["lineItems"]["nodes"][0]["quantity"] == "two"
        assert fetch("negative_quantity")["lineItems"]["nodes"][0]["quantity"] == -1
        assert fetch("unknown_currency")["currencyCode"] == "XYZ"
        assert fetch("created_at_unparseable")["createdAt"] == "yesterday"
        assert fetch("missing_created_at")["createdAt"] is None
        assert fetch("missing_line_items")["lineItems"] is None
        assert fetch("negative_total")["totalPriceSet"]["shopMoney"]["amount"].startswith("-")
        assert isinstance(fetch("total_price_object")["totalPriceSet"]["shopMoney"]["amount"], dict)


def test_invalid_documents_are_answered_like_shopify(sandbox):
    with client(sandbox) as http:
        unknown = gql(http, "{ orders(first: 1) { nodes { id bogus } } }")
        syntax = gql(http, "{ orders(first: 1) { nodes { id }")
        too_many = gql(http, "{ orders(first: 251) { nodes { id } } }")
        unsized = gql(http, "{ orders { nodes { id } } }")
        bad_variable = gql(http, "query($n: Int!) { orders(first: $n) { nodes { id } } }", {"n": "ten"})
        response = http.post(GRAPHQL_PATH, json={"variables": {}})
    error = unknown["errors"][0]
    assert "bogus" in error["message"] and error["locations"] and error["extensions"]["code"] == "undefinedField"
    assert "data" not in unknown and unknown["extensions"]["cost"]["requestedQueryCost"] is None
    assert syntax["errors"][0]["locations"]
    assert "250" in too_many["errors"][0]["message"]
    assert "first or last" in unsized["errors"][0]["message"]
    assert bad_variable["errors"][0]["message"]
    assert response.status_code == 400


def test_query_over_the_cost_limit_is_refused(sandbox):
    query = """{ orders(first: 100) { nodes { lineItems(first: 100) { nodes { id } } } } }"""
    with client(sandbox) as http:
        answer = gql(http, query)
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED" and error["extensions"]["cost"] == 2 + 100 * 103
    assert answer["extensions"]["cost"]["requestedQueryCost"] == 10302


def test_throttled_when_the_bucket_is_empty_and_restored_over_time():
    store = SandboxStore(seed=3, orders=30, rate_per_min=0.0, malformed_rate=0.0)
    query = "{ orders(first: 20) { nodes { id customer { id } } } }"  # requested 2 + 20 * 2 = 42
    with SandboxServer(store, bucket_size=100, restore_rate=50.0, seed=1) as sandbox, client(sandbox) as http:
        answers = [gql(http, query) for _ in range(4)]
        throttled = [a for a in answers if "errors" in a]
        assert throttled, "a burst over the bucket is throttled"
        first = throttled[0]
        assert first["errors"] == [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]
        cost = first["extensions"]["cost"]
        assert cost["requestedQueryCost"] == 42 and cost["actualQueryCost"] is None
        status = cost["throttleStatus"]
        assert status["maximumAvailable"] == 100.0 and status["restoreRate"] == 50.0
        assert status["currentlyAvailable"] < 42
        assert store.stats["throttled"] == len(throttled)
        time.sleep(42 / 50.0 + 0.1)
        after = gql(http, query)
        assert "errors" not in after and after["extensions"]["cost"]["actualQueryCost"] <= 42
    ok = answers[0]["extensions"]["cost"]
    assert ok["requestedQueryCost"] == 42 and ok["actualQueryCost"] == 2 + 20 * 2
    assert ok["throttleStatus"]["currentlyAvailable"] <= 100 - 42 + 1


def test_actual_cost_refund_uses_returned_sizes():
    store = SandboxStore(seed=3, orders=5, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, seed=1) as sandbox, client(sandbox) as http:
        cost = gql(http, "{ orders(first: 50) { nodes { id } } }")["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 52 and cost["actualQueryCost"] == 2 + 5
    assert cost["throttleStatus"]["currentlyAvailable"] >= 2000 - 7 - 1


def test_unsupported_search_terms_are_ignored_with_a_warning(sandbox):
    with client(sandbox) as http:
        answer = gql(http, "query($q: String) { orders(first: 250, query: $q) { nodes { id } } }",
                     {"q": "status:open AND updated_at:>'2000-01-01'"})
    assert len(answer["data"]["orders"]["nodes"]) == len(_scan_all(sandbox))
    (note,) = answer["extensions"]["search"]
    assert note["path"] == ["orders"] and note["warnings"][0]["field"] == "status"


@pytest.mark.parametrize("reverse", [False, True])
def test_backward_paging_mirrors_forward_paging(sandbox, reverse):
    forward = """query($after: String, $reverse: Boolean) { orders(first: 30, after: $after, sortKey: CREATED_AT,
      reverse: $reverse) { pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { name } } } }"""
    backward = """query($before: String, $reverse: Boolean) { orders(last: 30, before: $before, sortKey: CREATED_AT,
      reverse: $reverse) { pageInfo { hasNextPage hasPreviousPage startCursor } edges { node { name } } } }"""
    with client(sandbox) as http:
        names, after = [], None
        while True:
            page = gql(http, forward, {"after": after, "reverse": reverse})["data"]["orders"]
            names += [e["node"]["name"] for e in page["edges"]]
            assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        back, before = [], None
        while True:
            page = gql(http, backward, {"before": before, "reverse": reverse})["data"]["orders"]
            back = [e["node"]["name"] for e in page["edges"]] + back
            if not page["pageInfo"]["hasPreviousPage"]:
                break
            before = page["pageInfo"]["startCursor"]
    assert back == names and len(names) == 120
    numbers = [int(n.lstrip("#")) for n in names]
    assert numbers == sorted(numbers, reverse=reverse)
