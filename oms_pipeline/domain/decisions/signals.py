"""The signals triage consumes, as the interfaces the fraud, note and routing engines plug into.

``FraudAssessment``, ``NoteTags`` and ``FulfillmentOutlook`` are what the trained fraud model, the
note parser and inventory/routing hand over. :func:`rule_based_fraud_assessment` and
:func:`keyword_note_tags` are honest, transparent stand-ins for when no model is active (or in tests),
and their ``model_version`` / ``engine`` say so on every decision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oms_pipeline.domain.orders import Order


class _Signal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NoteTag(StrEnum):
    """The order-note taxonomy (multi-label; a note may carry none)."""

    GIFT = "gift"
    NO_PRICE_ON_SLIP = "no_price_on_slip"
    DELIVERY_INSTRUCTIONS = "delivery_instructions"
    SIGNATURE_REQUIRED = "signature_required"
    DELIVER_BY = "deliver_by"
    HOLD_UNTIL = "hold_until"
    EXPEDITE = "expedite"
    ADDRESS_CHANGE = "address_change"
    CANCEL_REQUEST = "cancel_request"
    ITEM_CHANGE = "item_change"
    SHIP_COMPLETE = "ship_complete"
    LOCAL_PICKUP = "local_pickup"
    CONTACT_CUSTOMER = "contact_customer"


class FraudAssessment(_Signal):
    """A fraud score in [0, 1] with the reasons behind it and the model that produced it.

    ``review_threshold`` is where the engine puts an order in front of a reviewer: for the trained
    model, the score that fills the review capacity; for the rules stand-in, a fixed 0.8.
    """

    score: float = Field(ge=0, le=1, allow_inf_nan=False)
    reasons: tuple[str, ...] = ()
    model_version: str = Field(min_length=1)
    review_threshold: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)

    @property
    def needs_review(self) -> bool:
        """Whether the engine asks for a person to review the order."""
        return self.review_threshold is not None and self.score >= self.review_threshold


class NoteTags(_Signal):
    """What the order note asks for: tags of the note-tag taxonomy plus the two dates it may carry."""

    tags: frozenset[NoteTag] = frozenset()
    deliver_by: date | None = None
    hold_until: date | None = None
    engine: str = Field(min_length=1)
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)

    @classmethod
    def empty(cls, engine: str = "none") -> NoteTags:
        """No note, or nothing in it: no tags, full confidence."""
        return cls(engine=engine, confidence=1.0)


class FulfillmentOutlook(_Signal):
    """What triage needs from inventory and routing for one order.

    ``available_by_sku``: sellable units of each SKU summed over every location (a missing SKU has
    none). ``incoming_by_sku``: units on inbound purchase orders, which is what makes a shortage a
    backorder rather than a dead end. ``one_location_ships_all``: some single location can ship every
    line. ``address_shippable``: carriers accept the shipping address.
    """

    available_by_sku: dict[str, int] = Field(default_factory=dict)
    incoming_by_sku: dict[str, int] = Field(default_factory=dict)
    one_location_ships_all: bool
    address_shippable: bool

    @field_validator("available_by_sku", "incoming_by_sku")
    @classmethod
    def _non_negative(cls, units: dict[str, int]) -> dict[str, int]:
        for sku, qty in units.items():
            if qty < 0:
                raise ValueError(f"units of {sku!r} are negative ({qty})")
        return units

    def available(self, sku: str) -> int:
        """Units of ``sku`` available anywhere."""
        return self.available_by_sku.get(sku, 0)

    def incoming(self, sku: str) -> int:
        """Units of ``sku`` on their way in."""
        return self.incoming_by_sku.get(sku, 0)


RULES_FRAUD_MODEL_VERSION = "rules-v1"


RULES_REVIEW_THRESHOLD = 0.8


def rule_based_fraud_assessment(
    order: Order,
    history: Sequence[Order] = (),
    *,
    high_value: Decimal = Decimal("1000"),
    bulk_quantity: int = 10,
) -> FraudAssessment:
    """Stand-in fraud score from a few transparent rules, used while no trained model is active.

    ``history`` is the customer's earlier orders. Each rule that fires adds a fixed weight and a
    reason; the score is capped at 1. ``model_version`` is ``rules-v1`` so no one mistakes it for the
    trained model. Reasons never carry personal data.
    """
    score = Decimal("0")
    reasons: list[str] = []

    def fire(weight: str, reason: str) -> None:
        nonlocal score
        score += Decimal(weight)
        reasons.append(reason)

    if order.total_price.amount >= high_value:
        fire("0.35", f"order value at least {high_value} {order.currency}")
    billing = order.billing_address.country_code if order.billing_address else None
    shipping = order.shipping_address.country_code if order.shipping_address else None
    if billing and shipping and billing != shipping:
        fire("0.25", "billing country differs from shipping country")
    earlier = [o for o in history if o.id != order.id]
    first_order = not earlier and (order.customer is None or (order.customer.orders_count or 0) <= 1)
    if first_order:
        fire("0.15", "first order from this customer")
    if any(line.quantity >= bulk_quantity for line in order.line_items):
        fire("0.15", f"{bulk_quantity} or more units of one item")
    if any(line.is_gift_card for line in order.line_items):
        fire("0.1", "contains a gift card")
    if any((o.cancel_reason or "").lower() == "fraud" for o in earlier):
        fire("0.4", "an earlier order was cancelled for fraud")
    return FraudAssessment(
        score=float(min(score, Decimal("1"))), reasons=tuple(reasons), model_version=RULES_FRAUD_MODEL_VERSION,
        review_threshold=RULES_REVIEW_THRESHOLD,
    )


KEYWORD_NOTES_ENGINE = "keywords-v1"
# Rules give no calibrated probability; a flat, modest confidence keeps "auto" mode cautious.
_KEYWORD_CONFIDENCE = 0.5

_KEYWORDS: dict[NoteTag, re.Pattern[str]] = {
    tag: re.compile(pattern, re.IGNORECASE)
    for tag, pattern in {
        NoteTag.CANCEL_REQUEST: r"\bcancel(?:l?ed|l?ing|lation)?\b|\bstornier|\bannul",
        NoteTag.GIFT: r"\bgift\b|\bgeschenk|\bcadeau\b|\bpresent for\b",
        NoteTag.NO_PRICE_ON_SLIP: r"\b(?:no|without) (?:prices?|receipt|invoice)\b",
        NoteTag.SIGNATURE_REQUIRED: r"\bsignature\b|\bsign for\b",
        NoteTag.EXPEDITE: r"\burgent(?:ly)?\b|\bexpedit|\brush\b|\basap\b|\bexpress\b",
        NoteTag.ADDRESS_CHANGE: r"\b(?:new|wrong|change(?:d)?(?: my| the)?) address\b|\baddress (?:change|is wrong)\b",
        NoteTag.SHIP_COMPLETE: (
            r"\b(?:ship|send) (?:everything |it all |all )?(?:complete|together)\b"
            r"|\bone (?:box|parcel|package|shipment)\b"
        ),
        NoteTag.LOCAL_PICKUP: r"\bpick(?:ing)?[- ]?up\b|\bcollect (?:it |in store)",
        NoteTag.DELIVERY_INSTRUCTIONS: (
            r"\bleave (?:it |at |by |with )|\bgate code\b|\bback door\b|\bneighbou?r\b|\bdoorbell\b"
        ),
        NoteTag.CONTACT_CUSTOMER: r"\b(?:call|phone|email|contact) me\b",
        NoteTag.ITEM_CHANGE: r"\b(?:swap|exchange|change) (?:the |my )?(?:size|colou?r|item)\b",
    }.items()
}
# "no need for gift wrap", "don't cancel": a negation just before the keyword voids it.
_NEGATION = re.compile(r"\b(?:no|not|don'?t|do not|never|without|kein\w*)\b(?:\W+\w+){0,2}\W*$", re.IGNORECASE)


def keyword_note_tags(note: str | None) -> NoteTags:
    """Stand-in note parser from keyword rules, for tests and when no engine is configured.

    Recognises a handful of tags by keywords (English, a little German and French) and ignores a
    keyword right after a negation. It extracts no dates (``deliver_by`` / ``hold_until`` stay empty)
    and reports ``engine="keywords-v1"`` with a flat confidence, so triage can tell it is the stand-in.
    """
    if not note or not note.strip():
        return NoteTags(engine=KEYWORD_NOTES_ENGINE, confidence=1.0)
    tags: set[NoteTag] = set()
    for tag, pattern in _KEYWORDS.items():
        # NO_PRICE_ON_SLIP is itself phrased as a negation, so the negation check would void it.
        negatable = tag is not NoteTag.NO_PRICE_ON_SLIP
        if any(not (negatable and _NEGATION.search(note[: m.start()])) for m in pattern.finditer(note)):
            tags.add(tag)
    return NoteTags(tags=frozenset(tags), engine=KEYWORD_NOTES_ENGINE, confidence=_KEYWORD_CONFIDENCE)
