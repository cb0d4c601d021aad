"""The Shopify connector against the sandbox over real HTTP on loopback, with faults on:
nothing lost, nothing duplicated, throttling honoured."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from oms_pipeline.connectors.shopify import ShopifyAPIError, ShopifyClient
from oms_pipeline.domain.ingestion import PollWindow, advance_high_water_mark, poll_window
from oms_pipeline.domain.orders import parse_time
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore


def _client(sandbox: SandboxServer, **kwargs) -> ShopifyClient:
    kwargs.setdefault("timeout_s", 0.5)
    kwargs.setdefault("max_attempts", 12)
    return ShopifyClient(sandbox.url, sandbox.token, sandbox.shop_domain, **kwargs)


def _versions(events) -> Counter:
    # (order id, instant of the version): GraphQL says UTC, REST the shop's offset; compare instants.
    return Counter((e.order_id, parse_time(e.updated_at)) for e in events if e.order_id and e.updated_at)


def _truth(store: SandboxStore) -> Counter:
    return Counter((oid, parse_time(stamp)) for oid, stamp in store.current_versions().items())


@pytest.mark.parametrize("api", ["graphql", "rest"])
def test_full_fetch_with_faults_loses_and_doubles_nothing(api):
    store = SandboxStore(seed=11, orders=120, rate_per_min=0.0, malformed_rate=0.05)
    # A generous bucket: this test is about faults; pacing has its own tests.
    with SandboxServer(store, faults=0.25, timeout_fault_s=1.0, restore_rate=20_000.0, seed=3) as sandbox, \
            _client(sandbox) as client:
        events = list(client.iter_order_events(PollWindow(start=None), api=api))
        stats = dict(store.stats)
    versions = _versions(events)
    assert set(versions) == set(_truth(store)), "every current order version fetched"
    assert max(versions.values()) == 1, "no version fetched twice"
    unidentified = [e for e in events if not e.order_id]
    assert len(events) == len(versions) + len(unidentified)
    assert client.stats.retries > 0, "faults were injected and retried"
    assert stats.get("throttled", 0) == 0


def test_orders_updated_while_paging_are_not_missed():
    store = SandboxStore(seed=5, orders=60, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, restore_rate=20_000.0, seed=1) as sandbox, _client(sandbox) as client:
        seen = []
        for i, event in enumerate(client.iter_order_events(PollWindow(start=None))):
            seen.append(event)
            if i == 10:
                store.advance(25)  # edits, payments, cancellations, new orders mid-scan
        # The next poll starts from the high-water mark minus the overlap, like the sensor's run.
        mark = advance_high_water_mark(None, [e.updated_at for e in seen])
        seen += list(client.iter_order_events(poll_window(mark, timedelta(seconds=120))))
    fetched = _versions(seen)
    missing = set(_truth(store)) - set(fetched)
    assert not missing, f"{len(missing)} current versions never fetched"


def test_paced_client_never_hits_an_empty_bucket():
    store = SandboxStore(seed=2, orders=48, rate_per_min=0.0, malformed_rate=0.0)
    # A small, fast-restoring bucket: each page costs most of it, so pacing must wait between pages.
    with SandboxServer(store, bucket_size=1000, restore_rate=2000.0, seed=1) as sandbox, _client(sandbox) as client:
        events = list(client.iter_order_events(PollWindow(start=None)))
        assert len(events) == 48
        assert client.stats.paced_wait_s > 0, "the client waited for the bucket to refill"
        assert store.stats.get("throttled", 0) == 0 and client.stats.throttled_answers == 0


def test_unpaced_burst_is_throttled_the_shopify_way():
    store = SandboxStore(seed=2, orders=48, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, bucket_size=1000, restore_rate=1.0, seed=1) as sandbox, \
            _client(sandbox, max_attempts=2, sleep=lambda _s: None) as client:
        with pytest.raises(Exception, match="THROTTLED"):
            list(client.iter_order_events(PollWindow(start=None)))
        assert store.stats.get("throttled", 0) >= 1


def test_wrong_token_is_refused():
    with SandboxServer(SandboxStore(seed=1, orders=3, rate_per_min=0.0), seed=1) as sandbox:
        with ShopifyClient(sandbox.url, "shpat_wrong", sandbox.shop_domain, timeout_s=2) as client:
            with pytest.raises(ShopifyAPIError, match="401"):
                client.latest_change(None)


def test_latest_change_probe():
    store = SandboxStore(seed=4, orders=20, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, seed=1) as sandbox, _client(sandbox) as client:
        newest = client.latest_change(None)
        assert parse_time(newest) == max(parse_time(s) for s in store.current_versions().values())
        assert client.latest_change(newest) is None
