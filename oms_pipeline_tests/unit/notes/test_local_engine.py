"""The local engine: held-out quality (the issue's acceptance figure), parsing, persistence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from oms_pipeline.domain.decisions.signals import NoteTag
from oms_pipeline.domain.notes.local import LocalNoteEngine, corpus_hash, heldout_evaluation, load_corpus

CREATED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return load_corpus()


@pytest.fixture(scope="module")
def heldout(corpus: list[dict]) -> dict:
    return heldout_evaluation(corpus)


@pytest.fixture(scope="module")
def engine(corpus: list[dict]) -> LocalNoteEngine:
    return LocalNoteEngine.train(corpus, version=f"local-tfidf-{corpus_hash()}")


def test_corpus_is_big_varied_and_template_disjoint(corpus: list[dict]) -> None:
    assert len(corpus) >= 1500
    assert {r["language"] for r in corpus} >= {"en", "de"}
    assert sum(1 for r in corpus if not r["tags"]) >= 300  # plenty of notes that ask for nothing
    assert sum(1 for r in corpus if len(r["tags"]) >= 2) >= 300
    assert {t for r in corpus for t in r["tags"]} == {t.value for t in NoteTag}
    train_templates = {t for r in corpus if r["split"] == "train" for t in r["templates"].split("+")}
    test_templates = {t for r in corpus if r["split"] == "test" for t in r["templates"].split("+")}
    assert not train_templates & test_templates


def test_heldout_macro_f1_meets_the_acceptance_bar(heldout: dict) -> None:
    assert heldout["macro_f1"] >= 0.90, heldout["per_tag"]
    assert set(heldout["per_tag"]) == {t.value for t in NoteTag}
    assert heldout["n_test"] >= 200


def test_parse_tags_dates_and_fields(engine: LocalNoteEngine) -> None:
    result = engine.parse("please don't ship before the 12th, it's a gift, leave it at the back door", CREATED)
    assert {NoteTag.HOLD_UNTIL, NoteTag.GIFT, NoteTag.DELIVERY_INSTRUCTIONS} <= result.tags
    assert result.hold_until == date(2026, 3, 12)
    assert result.instructions is not None and "back door" in result.instructions
    assert result.engine == "local" and result.version.startswith("local-tfidf-")
    assert 0 <= result.confidence <= 1
    tags = result.as_note_tags()
    assert tags.engine == result.version and tags.hold_until == date(2026, 3, 12)


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("Thanks, love your shop!", set()),
        ("no need for gift wrap, it's for me", set()),
        ("please cancel my order", {NoteTag.CANCEL_REQUEST}),
        ("bitte Bestellung stornieren", {NoteTag.CANCEL_REQUEST}),
        ("bitte bis Freitag liefern, ist ein Geschenk", {NoteTag.DELIVER_BY, NoteTag.GIFT}),
        ("I'll pick it up in store", {NoteTag.LOCAL_PICKUP}),
    ],
)
def test_parse_examples(engine: LocalNoteEngine, note: str, expected: set[NoteTag]) -> None:
    assert engine.parse(note, CREATED).tags == expected


def test_gift_message_is_extracted(engine: LocalNoteEngine) -> None:
    result = engine.parse('it\'s a gift, please add a card saying "Happy birthday, Tom!"', CREATED)
    assert NoteTag.GIFT in result.tags
    assert result.gift_message == "Happy birthday, Tom!"


def test_empty_note(engine: LocalNoteEngine) -> None:
    for note in (None, "", "   "):
        result = engine.parse(note, CREATED)
        assert result.tags == frozenset() and result.confidence == 1.0


def test_save_and_load_round_trip(engine: LocalNoteEngine, tmp_path: Path) -> None:
    engine.save(tmp_path)
    loaded = LocalNoteEngine.load(tmp_path)
    note = "urgent! leave it with the neighbour"
    assert loaded.version == engine.version
    assert loaded.parse(note, CREATED) == engine.parse(note, CREATED)


def test_batch_equals_single(engine: LocalNoteEngine) -> None:
    notes = ["gift for mum", None, "Storno bitte", "ship everything together"]
    batch = engine.parse_many(notes, [CREATED] * len(notes))
    assert batch == [engine.parse(n, CREATED) for n in notes]
