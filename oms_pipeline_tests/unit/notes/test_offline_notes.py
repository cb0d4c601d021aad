"""Which engine `auto` means for the NOTES.jsonl -> TAGS.jsonl file contract."""

from __future__ import annotations

import pytest

from oms_pipeline.services.notes_files import resolve_engine
from oms_pipeline_tests.support.fake_anthropic import FAKE_KEY


def test_auto_means_local_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert resolve_engine("auto") == "local"
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    assert resolve_engine("auto") == "anthropic"
    with pytest.raises(ValueError):
        resolve_engine("gpt")
