"""Order transactions the way Shopify serves them: not on REST order objects, but from
``orders/<id>/transactions.json`` (one call per order) or GraphQL ``nodes(ids:) { ... on Order {
transactions } }`` (one call per page of orders), which the settlements landing uses."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from oms_pipeline.connectors import shopify as connector
from oms_pipeline.connectors.shopify import ShopifyAPIError, ShopifyClient
from oms_pipeline.domain.shopify.query_cost import MAX_QUERY_COST
from oms_pipeline.sandbox.graphql_api import subset_schema
from oms_pipeline.sandbox.server import API_VERSION, SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.services.reconciliation_landing import SETTLEMENTS_STREAM, land_store_settlements
from oms_pipeline.storage import schema
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.sandbox_http import client, gql

ORDERS = f"/admin/api/{API_VERSION}/orders.json"
SHOP = "oms-sandbox.myshopify.com"
NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Order { id transactions {
  id kind status gateway test createdAt processedAt amountSet { shopMoney { amount currencyCode } }
  parentTransaction { id } } } } }"""


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def _store(seed: int = 5, orders: int = 40, events: int = 60) -> SandboxStore:
    """A store whose orders have sales, authorizations, captures and refunds (no malformed orders)."""
    store = SandboxStore(seed=seed, orders=orders, rate_per_min=0.0, malformed_rate=0.0, clock=Clock())
    store.advance(events)
    return store


def _truth(store: SandboxStore) -> dict[int, list[dict]]:
    with store.lock:
        return {r.key: copy.deepcopy(r.order.get("transactions") or []) for r in store.records() if r.served_id}


def _essence(transaction: dict) -> tuple:
    """What must agree between the REST and GraphQL readings of one transaction."""
    return (int(transaction["id"]), transaction["kind"], transaction["status"], Decimal(transaction["amount"]),
            transaction["currency"], transaction["gateway"], transaction["parent_id"],
            datetime.fromisoformat(transaction["processed_at"]), datetime.fromisoformat(transaction["created_at"]))


def test_rest_orders_carry_no_order_level_transactions():
    store = _store(events=20)
    assert any(_truth(store).values())  # the store does hold transactions
    with SandboxServer(store) as sandbox, client(sandbox) as http:
        listed = http.get(ORDERS, params={"status": "any", "limit": 250}).json()["orders"]
        asked = http.get(ORDERS, params={"status": "any", "limit": 250,
                                         "fields": "id,refunds,transactions"}).json()["orders"]
        one = http.get(f"/admin/api/{API_VERSION}/orders/{listed[0]['id']}.json").json()["order"]
    assert listed and all("transactions" not in o for o in listed)
    assert all(set(o) <= {"id", "refunds"} for o in asked) and "transactions" not in one
    # A refund still lists its own transactions, as on Shopify.
    refunds = [r for o in listed for r in o.get("refunds") or ()]
    assert refunds and all(r["transactions"] and r["transactions"][0]["kind"] == "refund" for r in refunds)


def test_rest_endpoint_serves_shopify_transaction_shape_and_404():
    store = _store()
    truth = _truth(store)
    key = max(truth, key=lambda k: len(truth[k]))
    with SandboxServer(store) as sandbox, client(sandbox) as http:
        answer = http.get(f"/admin/api/{API_VERSION}/orders/{key}/transactions.json")
        missing = http.get(f"/admin/api/{API_VERSION}/orders/42/transactions.json")
        refused = http.get(f"/admin/api/{API_VERSION}/orders/{key}/transactions.json",
                           headers={"X-Shopify-Access-Token": "wrong"})
    assert answer.status_code == 200 and "X-Shopify-Shop-Api-Call-Limit" in answer.headers  # the REST bucket
    listed = answer.json()["transactions"]
    assert [t["id"] for t in listed] == [t["id"] for t in truth[key]] and len(listed) >= 2
    for item in listed:
        assert {"id", "order_id", "kind", "status", "amount", "currency", "gateway", "created_at", "processed_at",
                "parent_id", "test", "error_code", "authorization", "admin_graphql_api_id"} <= set(item)
        assert "refund_id" not in item  # not a field of Shopify's Transaction resource
        assert isinstance(item["amount"], str) and item["order_id"] == key and item["status"] == "success"
    assert missing.status_code == 404 and missing.json() == {"errors": "Not Found"}
    assert refused.status_code == 401


def test_rest_endpoint_and_graphql_nodes_serve_the_same_transactions():
    store = _store()
    truth = _truth(store)
    # One REST call per order would wait on the 40-call bucket (2/s): a roomier bucket keeps this fast.
    with SandboxServer(store, rest_bucket_size=1000) as sandbox, \
            ShopifyClient(sandbox.url, sandbox.token, SHOP, sleep=lambda s: None) as shop:
        by_graphql = shop.order_transactions(list(truth) + [42])  # 42: no such order
        by_rest = {key: list(shop.iter_order_transactions_rest(key)) for key in truth}
        stats = store.stats
    assert 42 not in by_graphql and set(by_graphql) == set(truth)
    kinds = set()
    for key, listed in by_rest.items():
        assert [_essence(t) for t in by_graphql[key]] == [_essence(t) for t in listed]
        kinds |= {t["kind"] for t in listed}
    assert {"sale", "authorization", "capture", "refund"} <= kinds, kinds
    # GraphQL points were charged from the cost bucket; the REST calls went through the REST gate.
    assert stats["points_spent"] > 0 and stats["requests_rest"] == len(truth)
    # One GraphQL query per page of ids, not one call per order.
    pages = -(-(len(truth) + 1) // connector.ORDERS_PER_TRANSACTIONS_PAGE)
    assert shop.stats.by_status[200] == pages + len(truth)


def test_graphql_nodes_answers_with_shopify_enums_and_cost():
    store = _store()
    truth = _truth(store)
    keys = sorted(truth)[:5]
    ids = [f"gid://shopify/Order/{k}" for k in keys] + ["gid://shopify/Order/42", "gid://shopify/Product/1"]
    with SandboxServer(store) as sandbox, client(sandbox) as http:
        answer = gql(http, NODES, {"ids": ids})
        first_two = gql(http, NODES.replace("transactions {", "transactions(first: 1) {"), {"ids": ids[:1]})
        bad = gql(http, NODES, {"ids": ["not-a-gid"]})
    nodes = answer["data"]["nodes"]
    assert nodes[-2:] == [None, None] and [n["__typename"] for n in nodes[:5]] == ["Order"] * 5
    kinds = set(subset_schema().type_map["OrderTransactionKind"].values)
    statuses = set(subset_schema().type_map["OrderTransactionStatus"].values)
    for key, node in zip(keys, nodes, strict=False):
        assert node["id"] == f"gid://shopify/Order/{key}"
        assert [t["id"] for t in node["transactions"]] == \
            [f"gid://shopify/OrderTransaction/{t['id']}" for t in truth[key]]
        for item in node["transactions"]:
            assert item["kind"] in kinds and item["status"] in statuses and item["createdAt"].endswith("Z")
            assert Decimal(item["amountSet"]["shopMoney"]["amount"]) > 0
    assert len(first_two["data"]["nodes"][0]["transactions"]) == 1
    cost = answer["extensions"]["cost"]
    assert 0 < cost["actualQueryCost"] <= cost["requestedQueryCost"] <= MAX_QUERY_COST
    assert bad["data"] is None and "Invalid global id" in bad["errors"][0]["message"]


def test_order_with_more_transactions_than_a_page_is_read_whole_over_rest():
    store = _store()
    truth = _truth(store)
    key = next(k for k, listed in truth.items() if listed)
    with store.lock:
        record = store.get(key)
        sale = record.order["transactions"][0]
        for n in range(connector.TRANSACTIONS_PER_ORDER + 2):
            record.order["transactions"].append({**sale, "id": sale["id"] * 100 + n, "kind": "void"})
    with SandboxServer(store) as sandbox, \
            ShopifyClient(sandbox.url, sandbox.token, SHOP, sleep=lambda s: None) as shop:
        found = shop.order_transactions([key])
    assert len(found[key]) == len(truth[key]) + connector.TRANSACTIONS_PER_ORDER + 2


def _landed(wh: Warehouse) -> dict[str, tuple]:
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.store_transactions)).mappings().all()
    return {r["transaction_id"]: (r["order_id"], r["refund_id"], r["kind"], Decimal(str(r["amount"])))
            for r in rows}


def _expected(truth: dict[int, list[dict]], skip: set[int] = frozenset()) -> dict[str, tuple]:
    """store_transactions as the truth says: every transaction; a refund's carries its refund id."""
    out = {}
    for key, listed in truth.items():
        for t in listed:
            if key in skip and t["refund_id"] is None:
                continue  # order-level only: refunds bring their own
            out[str(t["id"])] = (str(key), str(t["refund_id"]) if t["refund_id"] else None, t["kind"],
                                 Decimal(t["amount"]))
    return out


def test_landing_over_the_sandbox_fills_store_transactions(duckdb_url):
    store = _store()
    truth = _truth(store)
    wh = Warehouse(duckdb_url)
    wh.migrate()
    with SandboxServer(store) as sandbox, \
            ShopifyClient(sandbox.url, sandbox.token, SHOP, sleep=lambda s: None) as shop:
        run = land_store_settlements(wh, shop, SHOP, batch=17)
    assert run.errors == [] and run.read == len(truth)
    assert _landed(wh) == _expected(truth)
    assert wh.high_water_mark(SHOP, SETTLEMENTS_STREAM) == run.cursor is not None
    wh.dispose()


def test_order_whose_transactions_cannot_be_read_lands_without_them(duckdb_url, monkeypatch):
    store = _store()
    truth = _truth(store)
    with store.lock:
        by_update = sorted((r for r in store.records() if truth.get(r.key)), key=lambda r: r.updated)
    failing, missing = by_update[len(by_update) // 2], by_update[-1]
    real = ShopifyClient.order_transactions

    def flaky(self, order_ids):
        order_ids = list(order_ids)
        if failing.key in order_ids:
            raise ShopifyAPIError("GraphQL errors: boom")
        found = real(self, order_ids)
        found.pop(missing.key, None)  # as if the store answered null for it
        return found

    monkeypatch.setattr(ShopifyClient, "order_transactions", flaky)
    wh = Warehouse(duckdb_url)
    wh.migrate()
    with SandboxServer(store) as sandbox, \
            ShopifyClient(sandbox.url, sandbox.token, SHOP, sleep=lambda s: None) as shop:
        run = land_store_settlements(wh, shop, SHOP)
    page = connector.ORDERS_PER_TRANSACTIONS_PAGE
    assert run.read == len(truth)
    # Every order of the failed page and the one the store left out, each named.
    unread = {int(e.split("order ")[1].split(":")[0]) for e in run.errors}
    assert failing.key in unread and missing.key in unread and len(unread) <= page + 1
    assert all("transactions: not read, landed without them" in e for e in run.errors)
    assert any("boom" in e for e in run.errors)
    # Landed all the same (fulfillments, refunds with their transactions), only order-level ones missing.
    assert _landed(wh) == _expected(truth, skip=unread)
    with wh.engine.connect() as conn:
        landed_orders = {r[0] for r in conn.execute(sa.select(schema.store_shipping_lines.c.order_id))}
    assert str(failing.key) in landed_orders or not failing.order["shipping_lines"]
    # The mark stops at the oldest unread order, so the next run reads it again.
    oldest = min(r.updated for r in store.records() if r.key in unread)
    assert datetime.fromisoformat(run.cursor) == oldest
    monkeypatch.setattr(ShopifyClient, "order_transactions", real)
    with SandboxServer(store) as sandbox, \
            ShopifyClient(sandbox.url, sandbox.token, SHOP, sleep=lambda s: None) as shop:
        again = land_store_settlements(wh, shop, SHOP, overlap=timedelta(seconds=1))
    assert again.errors == [] and _landed(wh) == _expected(truth)
    wh.dispose()
