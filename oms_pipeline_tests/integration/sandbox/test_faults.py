"""Fault injection: about the configured share of requests fail as Shopify's edge does, and a
faulted request changes nothing and costs nothing."""

from __future__ import annotations

import httpx
import pytest

from oms_pipeline.sandbox.faults import FAULT_KINDS
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline_tests.support.sandbox_http import GRAPHQL_PATH, ORDERS_PATH, client

QUERY = "{ orders(first: 5) { nodes { id updatedAt } } }"


def test_faults_at_about_the_rate_without_side_effects():
    store = SandboxStore(seed=3, orders=30, rate_per_min=0.0)
    before = store.current_versions()
    statuses = []
    with SandboxServer(store, faults=0.3, timeout_fault_s=2.0, seed=4, bucket_size=1000, restore_rate=0.0,
                       rest_bucket_size=1000) as sandbox, client(sandbox) as http:
        for i in range(200):
            try:
                if i % 2:
                    response = http.post(GRAPHQL_PATH, json={"query": QUERY}, timeout=0.3)
                else:
                    response = http.get(ORDERS_PATH, params={"limit": 5}, timeout=0.3)
                statuses.append(response.status_code)
            except httpx.TimeoutException:
                statuses.append("timeout")
        remaining = sandbox.graphql.bucket(sandbox.token).available()
    stats = store.stats
    assert 40 <= stats["faults"] <= 80, stats
    assert sum(stats.get(f"fault_{k}", 0) for k in FAULT_KINDS) == stats["faults"]
    assert all(stats.get(f"fault_{k}", 0) > 0 for k in FAULT_KINDS)
    assert statuses.count("timeout") >= stats["fault_timeout"]  # a slow machine may time out a normal answer
    assert statuses.count(500) == stats["fault_http_500"] and statuses.count(502) == stats["fault_http_502"]
    assert statuses.count(429) == stats["fault_http_429"] and stats.get("throttled", 0) == 0
    assert store.current_versions() == before, "faults change no order"
    # No restore: every point spent is on a request that was answered; faulted ones charged nothing.
    answered = sum(1 for i, s in enumerate(statuses) if i % 2 and s == 200)
    timed_out = sum(1 for i, s in enumerate(statuses) if i % 2 and s == "timeout")
    assert 1000 - 7 * (answered + timed_out) - 1 <= remaining <= 1000 - 7 * answered


def test_fault_answers_look_like_shopify():
    store = SandboxStore(seed=3, orders=3, rate_per_min=0.0)
    with SandboxServer(store, faults=1.0, timeout_fault_s=0.05, seed=5) as sandbox, client(sandbox) as http:
        answers = [http.get(ORDERS_PATH) for _ in range(30)]
    by_status = {a.status_code: a for a in answers}
    assert set(by_status) == {429, 500, 502, 504}
    assert by_status[429].headers["Retry-After"] == "1.0"
    assert by_status[502].headers["content-type"].startswith("text/html")


def test_fault_rate_is_validated():
    with pytest.raises(ValueError):
        SandboxServer(SandboxStore(seed=1, orders=1, rate_per_min=0.0), faults=1.5)
