"""Parsing order notes over the warehouse: load the orders decisions will look at, parse, persist, report.

The ``order_note_tags`` asset calls :func:`parse_pending_notes`; decisions read the result through
:func:`stored_note_tags`. The engines live in ``domain/notes`` (local) and ``connectors`` (Anthropic).
Nothing personal is logged or reported: summaries carry ids, counts, tag names and engine versions.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from oms_pipeline.domain.decisions.decide import customer_note
from oms_pipeline.domain.decisions.signals import NoteTag, NoteTags
from oms_pipeline.domain.notes.local import LocalNoteEngine
from oms_pipeline.domain.notes.model import NoteParse
from oms_pipeline.domain.orders import Order
from oms_pipeline.domain.pii import names_from_order
from oms_pipeline.services.note_model import local_note_model
from oms_pipeline.storage.notes import NoteTagStore, StoredNoteParse
from oms_pipeline.storage.warehouse import Warehouse

NOTE_ENGINES = ("local", "anthropic", "auto")
_LOCAL_BATCH = 512


class NoteEngine(Protocol):
    """What :func:`parse_pending_notes` needs of an engine (the local and the Anthropic one both fit)."""

    @property
    def version(self) -> str: ...

    def parse(self, note: str | None, created_at: datetime, *args: Any, **kwargs: Any) -> NoteParse: ...


def resolve_note_engine(engine: str) -> str:
    """``auto`` becomes ``anthropic`` when ``ANTHROPIC_API_KEY`` is set, else ``local``."""
    if engine not in NOTE_ENGINES:
        raise ValueError(f"notes engine must be one of {NOTE_ENGINES}, not {engine!r}")
    if engine == "auto":
        return "anthropic" if os.environ.get("ANTHROPIC_API_KEY") else "local"
    return engine


def make_note_engine(engine: str = "auto", *, models_dir: Path, model: str | None = None, timeout_s: float = 20.0,
                     max_retries: int = 3, cache_dir: Path | None = None) -> NoteEngine:
    """The engine ``engine`` names (``auto`` resolved). The local one is the model stored in ``models_dir``
    for the current corpus (trained and stored there if it is not yet: this is the notes step); the
    Anthropic one reads its key and base URL from ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL``, caches
    its answers in ``cache_dir`` and falls back to that local model."""
    if resolve_note_engine(engine) == "local":
        return local_note_model(models_dir, train=True)
    from oms_pipeline.connectors.anthropic_notes import DEFAULT_MODEL, AnthropicNoteEngine

    def local_fallback(note: str | None, created_at: datetime) -> NoteParse:
        return local_note_model(models_dir, train=True).parse(note, created_at)

    return AnthropicNoteEngine(model=model or DEFAULT_MODEL, timeout_s=timeout_s, max_retries=max_retries,
                               cache_dir=cache_dir, local_fallback=local_fallback)


@dataclass
class NoteRunSummary:
    """What one note-parsing step did (ids and counts only: fit for logs and asset metadata)."""

    engine: str
    version: str
    candidates: int = 0
    already_parsed: int = 0  # order versions parsed by an earlier run
    parsed: int = 0  # notes sent through the engine this run
    reused: int = 0  # new order versions whose note text did not change: the stored parse carried over
    without_note: int = 0
    stored: int = 0
    unreadable: list[str] = field(default_factory=list)
    tags: Counter = field(default_factory=Counter)
    answered_by: Counter = field(default_factory=Counter)  # engine family that produced each stored row
    fallbacks: Counter = field(default_factory=Counter)  # fallback reason kind (e.g. "invalid_tool_input")
    low_confidence: int = 0
    stats: dict[str, Any] = field(default_factory=dict)  # the Anthropic engine's NoteRunStats

    def metadata(self) -> dict[str, Any]:
        """JSON-ready figures for Dagster metadata."""
        return {
            "engine": self.engine, "version": self.version, "candidates": self.candidates,
            "already_parsed": self.already_parsed, "parsed": self.parsed, "reused": self.reused,
            "without_note": self.without_note, "stored": self.stored, "unreadable": len(self.unreadable),
            "tags": dict(self.tags.most_common()), "answered_by": dict(self.answered_by),
            "fallbacks": dict(self.fallbacks), "low_confidence": self.low_confidence, "llm": self.stats,
        }


@dataclass(frozen=True)
class _Pending:
    order: Order
    order_updated_at: datetime
    note: str | None
    note_sha256: str | None


LOW_CONFIDENCE = 0.8  # reported only; what acts on confidence is the gateway's threshold


def note_sha256(note: str | None) -> str | None:
    """sha256 of the customer's note text (None without a note)."""
    return hashlib.sha256(note.encode("utf-8")).hexdigest() if note else None


def parse_pending_notes(wh: Warehouse, shop: str, engine: NoteEngine, now: datetime, run_id: str) -> NoteRunSummary:
    """Parse the notes of the orders decisions will look at next (``wh.decisions.candidates``) and
    store one ``order_note_tags`` row per order version.

    Versions parsed by an earlier run are skipped; a new version whose note text is unchanged (our
    own tag writebacks bump the version) carries the stored parse over when the same engine version
    made it, without asking the engine again. Orders without a note get an empty parse, so decisions
    find a row for every candidate.
    """
    store = NoteTagStore(wh.engine)
    summary = NoteRunSummary(engine=_family(engine), version=engine.version)
    candidates = wh.decisions.candidates(shop, now)
    summary.candidates = len(candidates.read) + len(candidates.unreadable)
    summary.unreadable += [str(u) for u in candidates.unreadable]
    done = store.parsed_versions(shop, [c.order_id for c, _ in candidates.read])
    pending: list[_Pending] = []
    for cand, order in candidates.read:
        if (cand.order_id, _utc(cand.order_updated_at)) in done:
            summary.already_parsed += 1
            continue
        note = customer_note(order.note)
        pending.append(_Pending(order, cand.order_updated_at, note, note_sha256(note)))
    if not pending:
        return summary

    previous = store.latest(shop, [p.order.id for p in pending])
    results: dict[str, NoteParse] = {}
    to_parse: list[_Pending] = []
    for item in pending:
        prior = previous.get(item.order.id)
        if item.note is None:
            summary.without_note += 1
        elif (prior is not None and prior.note_sha256 == item.note_sha256 and prior.parse.version == engine.version
              and prior.parse.fallback_reason is None):
            results[item.order.id] = prior.parse
            summary.reused += 1
            continue
        to_parse.append(item)
    if hasattr(engine, "reset_stats"):
        engine.reset_stats()
    results.update(_parse(engine, to_parse))
    summary.parsed = sum(1 for p in to_parse if p.note is not None)
    if hasattr(engine, "stats"):
        summary.stats = engine.stats.as_metadata()

    items = [StoredNoteParse(order_id=p.order.id, order_updated_at=p.order_updated_at, parse=results[p.order.id],
                             note_sha256=p.note_sha256) for p in pending]
    summary.stored = store.save(shop, items, run_id, now)
    for item in items:
        summary.tags.update(t.value for t in item.parse.tags)
        summary.answered_by[item.parse.engine] += 1
        if item.parse.fallback_reason:
            summary.fallbacks[item.parse.fallback_reason.split(":", 1)[0]] += 1
        if item.parse.confidence < LOW_CONFIDENCE:
            summary.low_confidence += 1
    return summary


def stored_note_tags(wh: Warehouse, shop: str, order_ids: Sequence[str]) -> dict[str, NoteTags]:
    """The triage signal of each order's most recent parsed note; orders never parsed are absent
    (the caller decides their fallback)."""
    return NoteTagStore(wh.engine).latest_tags(shop, order_ids)


def gift_messages(wh: Warehouse, shop: str, order_ids: Sequence[str]) -> dict[str, str | None]:
    """The gift message of each order whose latest parsed note was tagged gift and had one."""
    return {oid: stored.parse.gift_message for oid, stored in NoteTagStore(wh.engine).latest(shop, order_ids).items()
            if NoteTag.GIFT in stored.parse.tags and stored.parse.gift_message}


def _parse(engine: NoteEngine, items: Sequence[_Pending]) -> dict[str, NoteParse]:
    if isinstance(engine, LocalNoteEngine):  # one vectorisation per batch: much faster per note
        out: dict[str, NoteParse] = {}
        for start in range(0, len(items), _LOCAL_BATCH):
            chunk = items[start:start + _LOCAL_BATCH]
            parsed = engine.parse_many([p.note for p in chunk], [p.order.created_at for p in chunk])
            out.update({p.order.id: r for p, r in zip(chunk, parsed, strict=True)})
        return out
    # The LLM path masks the order's own names before anything leaves the process.
    return {p.order.id: engine.parse(p.note, p.order.created_at, names=names_from_order(p.order)) for p in items}


def _family(engine: NoteEngine) -> str:
    return "local" if isinstance(engine, LocalNoteEngine) else "anthropic"


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# -- evaluation ---------------------------------------------------------------------------------


def evaluation_markdown(result: dict) -> str:
    """Per-tag precision/recall/F1 of an evaluation result (``heldout_evaluation``) as a markdown table."""
    lines = ["| tag | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for tag, s in result["per_tag"].items():
        lines.append(f"| {tag} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |")
    lines.append(f"| **macro** | | | **{result['macro_f1']:.3f}** | |")
    return "\n".join(lines)
