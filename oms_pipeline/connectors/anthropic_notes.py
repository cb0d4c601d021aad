"""The Anthropic note engine: structured extraction through the Messages API with one forced tool.

The tool's ``input_schema`` is the JSON schema of :class:`NoteExtraction`, and ``tool_choice`` forces
it, so the model must answer with that structure. Before anything leaves the process the note is
masked (:func:`oms_pipeline.domain.pii.mask_pii`: the order's names, emails, phones, street lines,
card-like numbers, gate codes); the gift message and instructions that come back are un-masked
locally.

Reliability: the SDK retries 408/409/429/5xx (529 "overloaded" included) with exponential backoff,
honouring ``retry-after``; ``max_retries`` and ``timeout_s`` come from the caller (settings). A tool
input that does not validate is asked for once more; if it still fails, or the API keeps failing,
the note is parsed by the local engine and the result says so (``engine="local"``,
``fallback_reason``). Answers are cached by sha256 of (prompt version, model, order date, masked
note) in memory and optionally as JSON files (which hold only masked text), so the same note is
never sent twice. :class:`NoteRunStats` counts requests, tokens and the cost estimate for asset
metadata.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import anthropic
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oms_pipeline.domain.decisions.signals import NoteTag
from oms_pipeline.domain.notes.model import NoteParse
from oms_pipeline.domain.pii import MaskedText, mask_pii

log = logging.getLogger(__name__)

ANTHROPIC_ENGINE = "anthropic"
DEFAULT_MODEL = "claude-sonnet-4-5"
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MAX_RETRIES = 3
PROMPT_VERSION = "notes-v1"
TOOL_NAME = "record_note_parse"

# USD per million input / output tokens (list prices; an estimate for metadata, not an invoice).
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-3-5-haiku": (0.8, 4.0),
    "claude-opus-4-1": (15.0, 75.0),
    "claude-opus-4": (15.0, 75.0),
}

SYSTEM_PROMPT = """You read free-text order notes that customers write at checkout in an online shop \
(any language) and record what the note asks the shop to do, with the record_note_parse tool.

Tags (a note may carry none; chit-chat such as "thanks!" carries none):
- gift: the order is a gift / should be gift-wrapped / carries a gift message.
- no_price_on_slip: no prices, receipt or invoice in the parcel.
- delivery_instructions: where or how to hand over the parcel (leave at, neighbour, gate code, doorbell).
- signature_required: someone must sign / not to be left unattended.
- deliver_by: a deadline for arrival. Set deliver_by to that date.
- hold_until: do not ship or deliver before a date. Set hold_until to that date.
- expedite: urgent, faster shipping.
- address_change: the shipping address is wrong or should change.
- cancel_request: the customer wants to cancel.
- item_change: change size, colour, quantity or items.
- ship_complete: ship everything together, no split shipments.
- local_pickup: the customer collects the order.
- contact_customer: the customer wants to be contacted.
A negated request ("no need for gift wrap", "don't cancel", "keine Eile") is not a request.

Dates: resolve relative dates against the order date given with the note. "by X" / "bis X" means \
X; "before X" / "vor X" means the day before X; "not before X" / "nicht vor X" / "hold until X" \
means X; "after X" / "nach X" means the day after X; a weekday means the next such day after the \
order date; "next week" means its Monday. Answer dates as YYYY-MM-DD, or null.

gift_message: the text to print on a gift card, verbatim, else null. instructions: the delivery \
instructions, verbatim, else null. Placeholders such as [NAME_1] or [CODE_1] stand for masked \
personal data: copy them verbatim, never guess what they hide. confidence: your confidence in [0, 1]."""


class NoteExtraction(BaseModel):
    """The tool's input: what the model extracted from one masked note."""

    model_config = ConfigDict(extra="forbid")

    tags: list[NoteTag] = Field(description="Every tag of the taxonomy the note asks for; empty if none.")
    deliver_by: date | None = Field(None, description="Arrival deadline as YYYY-MM-DD, or null.")
    hold_until: date | None = Field(None, description="Do not ship/deliver before this date (YYYY-MM-DD), or null.")
    gift_message: str | None = Field(None, description="Text for the gift card, verbatim, or null.")
    instructions: str | None = Field(None, description="Delivery instructions, verbatim, or null.")
    confidence: float = Field(ge=0, le=1, description="Confidence in this extraction, 0 to 1.")


def _inline_refs(schema: dict) -> dict:
    """The schema with ``$ref`` to ``$defs`` inlined: a flat schema every tool-use model reads the same."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]]))
            return {k: walk(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


def tool_definition() -> dict:
    """The one tool the model must call; its input schema is :class:`NoteExtraction`'s JSON schema."""
    return {
        "name": TOOL_NAME,
        "description": "Record the tags, dates, gift message and delivery instructions found in an order note.",
        "input_schema": _inline_refs(NoteExtraction.model_json_schema()),
    }


@dataclass
class NoteRunStats:
    """Counters for one run: what the LLM path cost and how often it fell back."""

    notes: int = 0
    api_calls: int = 0
    cache_hits: int = 0
    invalid_outputs: int = 0
    fallbacks: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def as_metadata(self) -> dict:
        """Plain values for Dagster asset metadata."""
        data = asdict(self)
        data["cost_usd"] = round(self.cost_usd, 6)
        return data


class _InvalidOutput(Exception):
    """The response carried no valid tool input."""


def _price(model: str) -> tuple[float, float]:
    for prefix, price in sorted(PRICES_PER_MTOK.items(), key=lambda kv: len(kv[0]), reverse=True):
        if model.startswith(prefix):
            return price
    return PRICES_PER_MTOK[DEFAULT_MODEL]


LocalFallback = Callable[[str | None, "datetime | date"], NoteParse]


class AnthropicNoteEngine:
    """Parses notes with Claude; masks PII first; caches; falls back to the local engine.

    ``api_key`` / ``base_url`` default to ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL`` (read by the
    SDK). ``client`` may be injected (tests, shared clients); otherwise one is built with the given
    ``timeout_s`` and ``max_retries``.
    """

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        api_key: str | None = None,
        base_url: str | None = None,
        cache_dir: Path | None = None,
        max_tokens: int = 1024,
        client: anthropic.Anthropic | None = None,
        local_fallback: LocalFallback,
    ):
        self.model = model
        self.max_tokens = max_tokens
        self.client = client or anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout_s,
                                                    max_retries=max_retries)
        self.cache_dir = cache_dir
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
        self.local_fallback = local_fallback
        self.stats = NoteRunStats()
        self._cache: dict[str, dict] = {}
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """Model and prompt version, recorded on every result."""
        return f"anthropic-{self.model}-{PROMPT_VERSION}"

    def reset_stats(self) -> NoteRunStats:
        """Start a new run; returns the counters of the one that ends."""
        done, self.stats = self.stats, NoteRunStats()
        return done

    # -- the public call --------------------------------------------------------------------------

    def parse(self, note: str | None, created_at: datetime | date, names: Iterable[str] = ()) -> NoteParse:
        """Parse one note. ``names``: the customer/recipient names from the order, masked before sending."""
        self.stats.notes += 1
        if not note or not note.strip():
            return NoteParse(engine=ANTHROPIC_ENGINE, version=self.version, confidence=1.0)
        order_date = created_at.date() if isinstance(created_at, datetime) else created_at
        masked = mask_pii(note, names)
        key = self.cache_key(masked.text, order_date)
        cached = self._cache_get(key)
        if cached is not None:
            self.stats.cache_hits += 1
            return self._result(NoteExtraction.model_validate(cached), masked)
        try:
            extraction = self._ask(masked.text, order_date)
        except _InvalidOutput as exc:
            self.stats.fallbacks += 1
            log.warning("note parse: tool input invalid twice, local fallback (%s)", exc)
            return self._fallback(note, created_at, f"invalid_tool_input: {exc}")
        except anthropic.APIError as exc:
            # The SDK already retried what is retryable; one note's failure must not stop the batch.
            self.stats.fallbacks += 1
            reason = f"api_error: {type(exc).__name__}" + (f" {exc.status_code}" if hasattr(exc, "status_code")
                                                            else "")
            log.warning("note parse: %s, local fallback", reason)
            return self._fallback(note, created_at, reason)
        self._cache_put(key, extraction.model_dump(mode="json"))
        return self._result(extraction, masked)

    def cache_key(self, masked_note: str, order_date: date) -> str:
        """sha256 of what determines the answer: prompt version, model, order date, masked note.

        The order date is part of it because relative dates ("by Friday") resolve against it.
        """
        material = json.dumps([PROMPT_VERSION, self.model, order_date.isoformat(), masked_note], ensure_ascii=False)
        return hashlib.sha256(material.encode()).hexdigest()

    # -- internals --------------------------------------------------------------------------------

    def _ask(self, masked_note: str, order_date: date) -> NoteExtraction:
        last_error = ""
        for _ in range(2):  # a response that does not validate is asked for once more
            response = self.client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=SYSTEM_PROMPT,
                tools=[tool_definition()],
                tool_choice={"type": "tool", "name": TOOL_NAME},
                messages=[{"role": "user", "content": self._prompt(masked_note, order_date)}],
            )
            self.stats.api_calls += 1
            self._count_usage(response)
            try:
                return self._extraction(response)
            except _InvalidOutput as exc:
                self.stats.invalid_outputs += 1
                last_error = str(exc)
        raise _InvalidOutput(last_error)

    @staticmethod
    def _prompt(masked_note: str, order_date: date) -> str:
        return (f"Order date: {order_date.isoformat()} ({order_date.strftime('%A')}).\n"
                f"Order note:\n<note>\n{masked_note}\n</note>")

    @staticmethod
    def _extraction(response: Any) -> NoteExtraction:
        blocks = [b for b in getattr(response, "content", []) or [] if getattr(b, "type", None) == "tool_use"]
        block = next((b for b in blocks if getattr(b, "name", None) == TOOL_NAME), None)
        if block is None:
            raise _InvalidOutput("no tool_use block")
        try:
            return NoteExtraction.model_validate(block.input)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "input" for e in exc.errors())
            raise _InvalidOutput(f"fields {fields}") from None

    def _count_usage(self, response: Any) -> None:
        usage = getattr(response, "usage", None)
        if usage is None:
            return
        tokens_in = int(getattr(usage, "input_tokens", 0) or 0)
        tokens_out = int(getattr(usage, "output_tokens", 0) or 0)
        price_in, price_out = _price(self.model)
        with self._lock:
            self.stats.input_tokens += tokens_in
            self.stats.output_tokens += tokens_out
            self.stats.cost_usd += (tokens_in * price_in + tokens_out * price_out) / 1_000_000

    def _result(self, extraction: NoteExtraction, masked: MaskedText) -> NoteParse:
        return NoteParse(
            tags=frozenset(extraction.tags),
            deliver_by=extraction.deliver_by,
            hold_until=extraction.hold_until,
            gift_message=masked.unmask(extraction.gift_message),
            instructions=masked.unmask(extraction.instructions),
            engine=ANTHROPIC_ENGINE,
            version=self.version,
            confidence=extraction.confidence,
        )

    def _fallback(self, note: str, created_at: datetime | date, reason: str) -> NoteParse:
        local = self.local_fallback(note, created_at)
        return local.model_copy(update={"fallback_reason": reason})

    def _cache_path(self, key: str) -> Path | None:
        return self.cache_dir / f"{key}.json" if self.cache_dir is not None else None

    def _cache_get(self, key: str) -> dict | None:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        path = self._cache_path(key)
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None  # a torn cache file is a miss, not an error
            with self._lock:
                self._cache[key] = data
            return data
        return None

    def _cache_put(self, key: str, extraction: dict) -> None:
        # Only the masked extraction is stored: the cache holds no personal data.
        with self._lock:
            self._cache[key] = extraction
        path = self._cache_path(key)
        if path is not None:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(extraction, ensure_ascii=False, sort_keys=True), encoding="utf-8")
            tmp.replace(path)
