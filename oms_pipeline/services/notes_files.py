"""File entry points for note parsing: ``NOTES.jsonl`` in, ``TAGS.jsonl`` out, and the benchmark.

Contracts:

- input lines: ``{"id": "...", "note": "...", "created_at": "ISO-8601"}`` (``note`` may be null or
  empty: the note then carries no tags);
- output lines: ``{"id": "...", "tags": [...], "deliver_by": "YYYY-MM-DD" | null,
  "hold_until": "YYYY-MM-DD" | null, "engine": "local" | "anthropic", "confidence": 0..1}``.

A bad input line (not JSON, not an object, missing or mistyped ``id`` / ``note`` / ``created_at``,
a ``created_at`` without a timezone) is skipped and reported as ``{"line": n, "field": ..., "error": ...}``
in the returned summary; the rest of the file is still parsed (bad input never stops the batch).
The output keeps the input order of the good lines.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from oms_pipeline.domain.notes.local import LocalNoteEngine
from oms_pipeline.domain.notes.model import NoteParse
from oms_pipeline.services.note_model import local_note_model
from oms_pipeline.services.notes import resolve_note_engine as resolve_engine

LOCAL_BATCH = 512


class NoteLineError(ValueError):
    """One input line that cannot be parsed; names the line number and the field."""

    def __init__(self, line: int, field: str, message: str):
        super().__init__(f"line {line}: field {field!r}: {message}")
        self.line, self.field, self.message = line, field, message

    def as_record(self) -> dict:
        """The error as it appears in the summary."""
        return {"line": self.line, "field": self.field, "error": self.message}


def _read_line(number: int, raw: str) -> tuple[str, str | None, datetime]:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise NoteLineError(number, "<line>", f"not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise NoteLineError(number, "<line>", "not a JSON object")
    note_id = obj.get("id")
    if isinstance(note_id, int) and not isinstance(note_id, bool):
        note_id = str(note_id)
    if not isinstance(note_id, str) or not note_id:
        raise NoteLineError(number, "id", "missing or not a non-empty string")
    note = obj.get("note")
    if note is not None and not isinstance(note, str):
        raise NoteLineError(number, "note", "must be a string or null")
    created = obj.get("created_at")
    if not isinstance(created, str):
        raise NoteLineError(number, "created_at", "missing or not an ISO-8601 string")
    try:
        created_at = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        raise NoteLineError(number, "created_at", f"not ISO-8601: {created!r}") from None
    if created_at.tzinfo is None:
        raise NoteLineError(number, "created_at", "has no timezone offset")
    return note_id, note, created_at


def parse_notes_file(
    in_path: Path,
    out_path: Path,
    engine: str = "auto",
    *,
    anthropic_engine: Any | None = None,
    anthropic_factory: Callable[[Callable[[str | None, datetime], NoteParse]], Any] | None = None,
    models_dir: Path | None = None,
) -> dict:
    """Parse every note of ``in_path`` (NOTES.jsonl) into ``out_path`` (TAGS.jsonl).

    ``anthropic_engine``: an :class:`~oms_pipeline.connectors.anthropic_notes.AnthropicNoteEngine`
    to use (else one is built with defaults, or by ``anthropic_factory``, given the local fallback).
    ``models_dir``: where the local note model is stored (trained and stored there when missing); None
    trains one for this call only.
    Returns a summary:
    ``{"engine", "read", "written", "skipped", "errors": [...], "fallbacks", "stats"}``.
    """
    chosen = resolve_engine(engine)
    errors: list[dict] = []
    good: list[tuple[str, str | None, datetime]] = []
    read = 0
    with in_path.open(encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue  # blank lines are not records
            read += 1
            try:
                good.append(_read_line(number, raw))
            except NoteLineError as exc:
                errors.append(exc.as_record())
    results: list[NoteParse]
    stats: dict = {}
    local = (lambda: local_note_model(models_dir, train=True)) if models_dir is not None else \
        functools.cache(LocalNoteEngine.train)
    if chosen == "local":
        engine_obj = local()
        results = []
        for start in range(0, len(good), LOCAL_BATCH):
            chunk = good[start:start + LOCAL_BATCH]
            results += engine_obj.parse_many([n for _, n, _ in chunk], [c for _, _, c in chunk])
    else:
        if anthropic_engine is None:
            def fallback(note: str | None, created_at: datetime) -> NoteParse:
                return local().parse(note, created_at)

            if anthropic_factory is not None:
                anthropic_engine = anthropic_factory(fallback)
            else:
                from oms_pipeline.connectors.anthropic_notes import AnthropicNoteEngine

                anthropic_engine = AnthropicNoteEngine(local_fallback=fallback)
        results = [anthropic_engine.parse(note, created) for _, note, created in good]
        stats = anthropic_engine.stats.as_metadata()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for (note_id, _, _), result in zip(good, results, strict=True):
            out.write(json.dumps(result.to_record(note_id), ensure_ascii=False) + "\n")
    tmp.replace(out_path)
    return {
        "engine": chosen,
        "read": read,
        "written": len(results),
        "skipped": len(errors),
        "errors": errors,
        "fallbacks": sum(1 for r in results if r.fallback_reason),
        "stats": stats,
    }


