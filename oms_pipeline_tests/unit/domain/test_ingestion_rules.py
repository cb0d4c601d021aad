"""Event identity, poll windows and batch normalization: the pure rules of ingestion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms_pipeline.domain.ingestion import (
    OrderEvent,
    PollWindow,
    advance_high_water_mark,
    normalize_events,
    poll_window,
)

SHOP = "nordwool.myshopify.com"


def test_event_key_is_order_and_version(rest_order):
    event = OrderEvent.from_payload("rest", rest_order)
    assert event.event_key == "5718921449652@2025-01-10T12:40:03-05:00"
    same = OrderEvent.from_payload("rest", dict(reversed(list(rest_order.items()))))
    assert same.payload_sha256 == event.payload_sha256  # key order does not change identity


def test_event_key_falls_back_to_payload_hash():
    event = OrderEvent.from_payload("rest", {"name": "#9", "updated_at": "2025-01-01T00:00:00Z"})
    assert event.event_key.startswith("sha256:") and event.order_id is None


def test_graphql_event_reads_legacy_id(graphql_order):
    event = OrderEvent.from_payload("graphql", graphql_order)
    assert event.order_id == "5718921449652" and event.updated_at == "2025-01-10T17:40:03Z"


def test_poll_window_starts_before_the_mark_by_the_overlap():
    window = poll_window("2025-01-10T12:00:00Z", timedelta(minutes=2))
    assert window.start == datetime(2025, 1, 10, 11, 58, tzinfo=UTC)
    assert window.shopify_search() == "updated_at:>='2025-01-10T11:58:00Z'"
    assert poll_window(None, timedelta(minutes=2)).shopify_search() is None


def test_bounded_window_search_syntax():
    window = PollWindow(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 1, 2, tzinfo=UTC))
    assert window.shopify_search() == "updated_at:>='2025-01-01T00:00:00Z' AND updated_at:<='2025-01-02T00:00:00Z'"


def test_high_water_mark_never_moves_back_and_ignores_garbage():
    mark = advance_high_water_mark("2025-01-10T12:00:00Z", ["2025-01-10T06:00:00-05:00", None, "yesterday"])
    assert mark == "2025-01-10T12:00:00Z"
    assert advance_high_water_mark(None, ["2025-01-10T12:40:03-05:00"]) == "2025-01-10T17:40:03Z"


def test_normalize_keeps_latest_version_and_quarantines_bad(rest_order):
    older = dict(rest_order, updated_at="2025-01-10T12:35:00-05:00")
    bad = dict(rest_order, id=1, name="#7", currency="XYZ")
    events = [OrderEvent.from_payload("rest", p) for p in (rest_order, older, bad)]
    batch = normalize_events(events, SHOP)
    assert [o.id for o, _ in batch.orders] == ["5718921449652"]
    assert batch.orders[0][0].updated_at == datetime(2025, 1, 10, 17, 40, 3, tzinfo=UTC)
    assert [q.order_name for q in batch.quarantined] == ["#7"]
    assert batch.quarantined[0].error.reason.startswith("currency:")
    assert sorted(batch.outcomes().values()) == ["order", "quarantined", "superseded"]
