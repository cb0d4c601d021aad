"""order_note_tags on DuckDB and, for real, on PostgreSQL: save, skip known versions, latest per order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from oms_pipeline.domain.decisions.signals import NoteTag, NoteTags
from oms_pipeline.domain.notes.model import NoteParse
from oms_pipeline.storage.notes import NoteTagStore, StoredNoteParse
from oms_pipeline.storage.warehouse import Warehouse

SHOP = "nordwool.myshopify.com"
V1 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
V2 = V1 + timedelta(hours=2)


def _exercise(url: str) -> None:
    wh = Warehouse(url)
    assert 4 in wh.migrate()
    store = NoteTagStore(wh.engine)
    gift = NoteParse(tags=frozenset({NoteTag.GIFT, NoteTag.DELIVER_BY}), deliver_by=date(2025, 3, 7),
                     gift_message="Happy birthday!", engine="local", version="local-tfidf-abc", confidence=0.91)
    held = NoteParse(tags=frozenset({NoteTag.HOLD_UNTIL}), hold_until=date(2025, 4, 1), engine="local",
                     version="local-tfidf-abc", confidence=0.7, fallback_reason="invalid_tool_input: x")
    empty = NoteParse(engine="anthropic", version="anthropic-m-notes-v1", confidence=1.0)
    items = [StoredNoteParse("1", V1, gift, "a" * 64), StoredNoteParse("2", V1, held, "b" * 64),
             StoredNoteParse("3", V1, empty)]
    assert store.save(SHOP, items, "run-1") == 3
    assert store.save(SHOP, items, "run-2") == 0  # an (order, version) is stored once
    # A newer version of order 1 (the customer edited the note): latest wins.
    assert store.save(SHOP, [StoredNoteParse("1", V2, empty)], "run-3") == 1
    # The same version in another timezone is the same version.
    assert store.save(SHOP, [StoredNoteParse("2", V1.astimezone(timezone(timedelta(hours=5))), gift)], "run-4") == 0

    assert store.parsed_versions(SHOP, ["1", "2", "9"]) == {("1", V1), ("1", V2), ("2", V1)}
    assert store.parsed_versions("other.myshopify.com", ["1"]) == set()
    latest = store.latest(SHOP, ["1", "2", "3", "9"])
    assert set(latest) == {"1", "2", "3"}
    assert latest["1"].order_updated_at == V2 and latest["1"].parse == empty
    assert latest["2"].parse == held and latest["2"].note_sha256 == "b" * 64
    assert store.latest(SHOP, ["1"])["1"].parse != gift  # order 1's first version is history now
    tags = store.latest_tags(SHOP, ["2", "3"])
    assert tags["2"] == NoteTags(tags=frozenset({NoteTag.HOLD_UNTIL}), hold_until=date(2025, 4, 1),
                                 engine="local-tfidf-abc", confidence=0.7)
    assert tags["3"].tags == frozenset() and tags["3"].engine == "anthropic-m-notes-v1"
    with wh.engine.connect() as conn:
        by_engine = dict(conn.exec_driver_sql("select engine_version, count(*) from order_note_tags "
                                              "group by engine_version").all())
    assert by_engine == {"local-tfidf-abc": 2, "anthropic-m-notes-v1": 2}
    wh.dispose()


def test_note_store_on_duckdb(duckdb_url):
    _exercise(duckdb_url)


@pytest.mark.postgres
def test_note_store_on_postgresql(postgres_schema_url):
    _exercise(postgres_schema_url)
