"""The local note model is stored per corpus and loaded, never trained by a step that only reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oms_pipeline.domain.decisions.signals import NoteTag
from oms_pipeline.services import note_model
from oms_pipeline.services.note_model import MODEL_FILE, NoteModelMissing, local_model_version, local_note_model


def test_the_model_is_trained_once_stored_by_corpus_hash_and_loaded_after(tmp_path, monkeypatch):
    monkeypatch.setattr(note_model, "_LOADED", {})
    with pytest.raises(NoteModelMissing, match="order_note_tags"):
        local_note_model(tmp_path, train=False)
    trained = local_note_model(tmp_path, train=True)
    stored = tmp_path / local_model_version() / MODEL_FILE
    assert stored.exists() and trained.version == local_model_version()
    assert [p.name for p in tmp_path.iterdir()] == [local_model_version()]  # no scratch folder left
    assert local_note_model(tmp_path, train=False) is trained  # this process's copy

    monkeypatch.setattr(note_model, "_LOADED", {})  # another process: it loads, it does not train
    monkeypatch.setattr(note_model.LocalNoteEngine, "train", lambda *a, **k: pytest.fail("trained again"))
    loaded = local_note_model(tmp_path, train=True)
    assert loaded is not trained and loaded.version == trained.version
    parsed = loaded.parse("it's a gift, please wrap it", datetime(2026, 3, 1, tzinfo=UTC))
    assert NoteTag.GIFT in parsed.tags


def test_a_model_of_another_corpus_is_not_loaded(tmp_path, monkeypatch):
    monkeypatch.setattr(note_model, "_LOADED", {})
    local_note_model(tmp_path, train=True)
    monkeypatch.setattr(note_model, "corpus_hash", lambda: "0ther000")
    monkeypatch.setattr(note_model, "_LOADED", {})
    with pytest.raises(NoteModelMissing, match="local-tfidf-0ther000"):
        local_note_model(tmp_path, train=False)
