"""The NOTES.jsonl -> TAGS.jsonl file contract, with both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oms_pipeline.connectors.anthropic_notes import AnthropicNoteEngine
from oms_pipeline.services.notes_files import parse_notes_file
from oms_pipeline_tests.support.fake_anthropic import FAKE_KEY, FakeAnthropic

LINES = [
    {"id": "1001", "note": "please don't ship before the 12th, it's a gift", "created_at": "2026-03-04T10:00:00Z"},
    {"id": "1002", "note": None, "created_at": "2026-03-04T10:00:00+01:00"},
    "this is not json",
    {"id": "1003", "note": "need it by Friday", "created_at": "2026-03-04"},
    {"note": "no id", "created_at": "2026-03-04T10:00:00Z"},
    {"id": "1004", "note": 42, "created_at": "2026-03-04T10:00:00Z"},
    {"id": "1005", "note": "need it by Friday", "created_at": "2026-03-04T10:00:00+00:00"},
]


def _write(path: Path) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in LINES) + "\n\n", encoding="utf-8")
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_local_file_contract(tmp_path: Path) -> None:
    summary = parse_notes_file(_write(tmp_path / "NOTES.jsonl"), tmp_path / "out" / "TAGS.jsonl", engine="local")
    out = _read(tmp_path / "out" / "TAGS.jsonl")
    assert [r["id"] for r in out] == ["1001", "1002", "1005"]
    for record in out:
        assert set(record) == {"id", "tags", "deliver_by", "hold_until", "engine", "confidence"}
        assert record["engine"] == "local" and 0 <= record["confidence"] <= 1
    assert set(out[0]["tags"]) >= {"gift", "hold_until"} and out[0]["hold_until"] == "2026-03-12"
    assert out[1]["tags"] == [] and out[1]["deliver_by"] is None
    assert out[2]["tags"] == ["deliver_by"] and out[2]["deliver_by"] == "2026-03-06"
    assert summary["read"] == 7 and summary["written"] == 3 and summary["skipped"] == 4
    assert [(e["line"], e["field"]) for e in summary["errors"]] == [
        (3, "<line>"), (4, "created_at"), (5, "id"), (6, "note")]


def test_anthropic_file_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeAnthropic() as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        summary = parse_notes_file(_write(tmp_path / "NOTES.jsonl"), tmp_path / "TAGS.jsonl", engine="auto",
                                   anthropic_factory=lambda fallback: AnthropicNoteEngine(
                                       timeout_s=5, max_retries=0, local_fallback=fallback))
        assert len(api.requests) == 2  # 1001 and 1005: 1002 is empty, the rest are bad lines
    out = _read(tmp_path / "TAGS.jsonl")
    assert summary["engine"] == "anthropic"
    assert [r["engine"] for r in out] == ["anthropic"] * 3
    assert out[0]["tags"] == ["gift"]
    assert summary["stats"]["api_calls"] == 2 and summary["stats"]["input_tokens"] > 0
