"""The Anthropic note engine over the warehouse, as the order_note_tags asset runs it: masked notes sent
once, cached, and reused for new versions with the same note."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from oms_pipeline.defs.notes.resources import NotesResource
from oms_pipeline.domain.decisions.decide import customer_note
from oms_pipeline.domain.decisions.signals import NoteTag
from oms_pipeline.domain.ingestion import OrderEvent, normalize_events
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.services.notes import parse_pending_notes, resolve_note_engine, stored_note_tags
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.fake_anthropic import FAKE_KEY, FakeAnthropic
from oms_pipeline_tests.support.note_orders import load_orders as _load_orders

SHOP = "oms-sandbox.myshopify.com"
NOW = datetime(2031, 6, 1, tzinfo=UTC)


def test_anthropic_engine_over_the_warehouse_masks_caches_and_reuses(tmp_path: Path, monkeypatch) -> None:
    store = SandboxStore(seed=12, orders=40, rate_per_min=0.0, malformed_rate=0.0)
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    orders = _load_orders(url, store)
    notes = {oid: customer_note(o.note) for oid, o in orders.items()}
    with_note = sorted(oid for oid, note in notes.items() if note)
    wh = Warehouse(url)
    with FakeAnthropic() as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        resource = NotesResource(engine="auto", anthropic_max_retries=0, cache_dir=str(tmp_path / "cache"),
                                 models_dir=str(tmp_path / "models"))
        assert resolve_note_engine(resource.engine) == "anthropic"
        first = parse_pending_notes(wh, SHOP, resource.note_engine(), NOW, "run-1")
        assert first.engine == "anthropic" and first.parsed == len(with_note) and first.fallbacks == Counter()
        # The same masked note (for the same order date) is sent once; the rest are cache hits.
        distinct = {(notes[oid], orders[oid].created_at.date()) for oid in with_note}
        assert 0 < len(api.requests) == len(distinct)
        assert first.stats["api_calls"] == len(api.requests) and first.stats["input_tokens"] > 0
        assert first.stats["cost_usd"] > 0
        sent = "\n".join(r.raw for r in api.requests)
        leaked = [v for v in _names_and_emails(store) if v in sent]
        assert leaked == []

        # New versions: one with the same note (our own tag writeback), one whose note the customer changed.
        same, changed = with_note[0], with_note[1]
        bumped = []
        for oid, note in ((same, notes[same]), (changed, "Please cancel this order, wrong size.")):
            payload = dict(store.get(int(oid)).order, updated_at="2031-01-01T00:00:00Z", note=note)
            bumped.append(OrderEvent.from_payload("rest", payload))
        wh.land_events(SHOP, bumped, "ingest-2")
        batch = normalize_events(wh.pending_events(SHOP), SHOP)
        wh.upsert_orders(batch.orders, "ingest-2")
        before = len(api.requests)
        second = parse_pending_notes(wh, SHOP, resource.note_engine(), NOW, "run-2")
        assert (second.already_parsed, second.reused, second.parsed, second.stored) == (len(notes) - 2, 1, 1, 2)
        assert len(api.requests) == before + 1
    tags = stored_note_tags(wh, SHOP, [changed])
    assert NoteTag.CANCEL_REQUEST in tags[changed].tags and tags[changed].engine.startswith("anthropic-")
    wh.dispose()


def _names_and_emails(store: SandboxStore) -> set[str]:
    values: set[str] = set()
    for record in store.records():
        order = record.order
        customer = order.get("customer") or {}
        values |= {order.get("email"), customer.get("email"), customer.get("first_name"), customer.get("last_name")}
    return {v for v in values if isinstance(v, str) and len(v) >= 4}
