"""The fraud pipeline's inputs over HTTP: disputes arriving late and paged, and the canonical order giving
the same features from either API as the REST element."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from oms_pipeline.connectors.shopify import ShopifyClient
from oms_pipeline.domain.fraud.canonical import rest_view
from oms_pipeline.domain.fraud.features import FEATURE_NAMES, FeatureBuilder
from oms_pipeline.domain.ingestion import PollWindow, parse_event
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline_tests.support.fraud_store import START, Clock
from oms_pipeline_tests.support.fraud_store import history_store as _history_store


def test_disputes_appear_late_and_page_over_http():
    clock = Clock(START)
    store = _history_store(clock)
    with SandboxServer(store, restore_rate=20_000.0) as sandbox, \
            ShopifyClient(sandbox.url, sandbox.token, sandbox.shop_domain, timeout_s=2.0) as client:
        first = list(client.iter_disputes())
        assert first and {"id", "order_id", "type", "amount", "currency", "reason", "status", "initiated_at",
                          "finalized_on", "evidence_due_by", "network_reason_code"} <= set(first[0])
        assert all(datetime.fromisoformat(d["initiated_at"]) <= START for d in first)
        stamps = [datetime.fromisoformat(d["initiated_at"]) for d in first]
        assert stamps == sorted(stamps, reverse=True)  # newest first, as Shopify serves them
        assert all(isinstance(d["amount"], str) for d in first)  # money as decimal strings
        # Paged with a small limit: every dispute exactly once, through Link headers only.
        response = client._rest_get(f"/admin/api/{client.api_version}/shopify_payments/disputes.json",
                                    {"limit": 7})
        assert 'rel="next"' in response.headers["Link"] and len(response.json()["disputes"]) == 7
        # Chargebacks keep arriving after the orders: a month later the store shows more.
        clock.at = START + timedelta(days=30)
        later = list(client.iter_disputes())
        assert len(later) > len(first)
        assert {d["id"] for d in first} <= {d["id"] for d in later}
        by_id = {d["id"]: d for d in later}
        assert any(by_id[d["id"]]["status"] != d["status"] for d in first)  # some were decided since
        bad = client._http.get(f"/admin/api/{client.api_version}/shopify_payments/disputes.json",
                               params={"status": "nonsense"})
        assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_an_order_has_the_same_features_from_either_api_as_from_its_rest_element():
    store = SandboxStore(seed=4, orders=0, rate_per_min=0.0, malformed_rate=0.0, history_orders=300,
                         history_days=30)
    with SandboxServer(store, restore_rate=100_000.0, bucket_size=100_000.0) as sandbox, \
            ShopifyClient(sandbox.url, sandbox.token, sandbox.shop_domain, timeout_s=5.0) as client:
        window = PollWindow(start=None, end=None)
        views = {api: {e.order_id: rest_view(parse_event(e, sandbox.shop_domain))
                       for e in client.iter_order_events(window, api)} for api in ("graphql", "rest")}
    ids = sorted(views["rest"])
    assert ids == sorted(views["graphql"]) and len(ids) == 300
    by_graphql = FeatureBuilder().transform([views["graphql"][i] for i in ids])
    by_rest = FeatureBuilder().transform([views["rest"][i] for i in ids])
    np.testing.assert_array_equal(by_graphql, by_rest)  # the poller (GraphQL) and a backfill (REST) agree
    raw = FeatureBuilder().transform([store.get(int(i)).rest() for i in ids])
    same = [j for j, name in enumerate(FEATURE_NAMES) if name != "shop_local_hour"]  # canonical: UTC hour
    np.testing.assert_allclose(by_rest[:, same], raw[:, same], equal_nan=True, rtol=1e-9)
