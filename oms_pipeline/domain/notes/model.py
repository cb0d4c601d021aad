"""What a note engine returns: :class:`NoteParse`, the note tags plus the extracted text fields.

``NoteTags`` (``domain/decisions/signals.py``) is what triage consumes; it has no room for the gift
message or the delivery instructions, so the engines return this richer record and
:meth:`NoteParse.as_note_tags` hands triage its part. ``engine`` is the family (``local`` or
``anthropic``, as the ``TAGS.jsonl`` contract says); ``version`` pins the model or prompt
(``local-tfidf-<corpus hash>``, ``anthropic-<model>-<prompt version>``) and becomes
``NoteTags.engine`` so every decision's audit record names the exact model.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from oms_pipeline.domain.decisions.signals import NoteTag, NoteTags


class NoteParse(BaseModel):
    """One parsed note: tags, dates, gift message, delivery instructions, engine and confidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tags: frozenset[NoteTag] = frozenset()
    deliver_by: date | None = None
    hold_until: date | None = None
    gift_message: str | None = None
    instructions: str | None = None
    engine: str = Field(min_length=1)
    version: str = Field(min_length=1)
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)
    # Why the answer did not come from the engine asked for (e.g. the LLM's output never validated).
    fallback_reason: str | None = None

    def as_note_tags(self) -> NoteTags:
        """The triage signal; ``engine`` carries the exact ``version`` for the audit trail."""
        return NoteTags(tags=self.tags, deliver_by=self.deliver_by, hold_until=self.hold_until,
                        engine=self.version, confidence=self.confidence)

    def to_record(self, note_id: str) -> dict:
        """The ``TAGS.jsonl`` line (``oms notes parse``) for this note."""
        return {
            "id": note_id,
            "tags": sorted(t.value for t in self.tags),
            "deliver_by": self.deliver_by.isoformat() if self.deliver_by else None,
            "hold_until": self.hold_until.isoformat() if self.hold_until else None,
            "engine": self.engine,
            "confidence": round(self.confidence, 4),
        }


_QUOTED = re.compile(r"[\"“„«]([^\"“”„«»]{2,200})[\"”“»]")
_MESSAGE_CUE = re.compile(
    r"(?:gift message|message|note|card(?: should)? say(?:s|ing)?|saying|that says|mit dem text|text|karte"
    r"|grußkarte|carte|mensaje)\s*[:\-]\s*(?P<msg>[^\n]{2,200}?)(?=(?<=[.!?])\s|\n|$)",
    re.IGNORECASE,
)
_INSTRUCTION_CUE = re.compile(
    r"\b(?:leave|drop|put|deliver to the|bring it to|neighbou?r|next door|gate|door ?bell|ring|buzz|knock|entrance"
    r"|porch|reception|mailroom|garage|shed|abgeben|abstellen|torcode|klingel|ablageort|hof|nachbar|briefkasten"
    r"|code|déposer|laisser|dejar|portero)\b",
    re.IGNORECASE,
)
_CLAUSE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+|;\s*|\s+-\s+|,\s+")


def extract_gift_message(note: str) -> str | None:
    """The text the customer wants on the gift card: a quoted passage or what follows "message:"."""
    if m := _QUOTED.search(note):
        return m.group(1).strip()
    if m := _MESSAGE_CUE.search(note):
        return m.group("msg").strip()
    return None


def extract_instructions(note: str) -> str | None:
    """The clauses of the note that tell the carrier where or how to deliver."""
    clauses = [c.strip(" ,") for c in _CLAUSE_SPLIT.split(note) if c and c.strip(" ,")]
    picked = [c for c in clauses if _INSTRUCTION_CUE.search(c)]
    return "; ".join(picked) if picked else None
