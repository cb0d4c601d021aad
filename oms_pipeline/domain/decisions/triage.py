"""Triage: standard, flagged (needs review) or exception (cannot proceed), with the rules that fired.

The rules are data (``triage_rules.yaml`` next to this module, validated by Pydantic): each rule has
an id, an outcome, a reason an operator reads, the Shopify hold reason to use, and a ``when``
condition from a small vocabulary of predicates combined with ``all`` / ``any``. The file's version
is stamped on every decision. Exception beats flagged beats standard.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oms_pipeline.domain.decisions.signals import FraudAssessment, FulfillmentOutlook, NoteTag, NoteTags
from oms_pipeline.domain.orders import FinancialStatus, Order

DEFAULT_RULES_PATH = Path(__file__).with_name("triage_rules.yaml")


class HoldReason(StrEnum):
    """Shopify's ``FulfillmentHoldReason`` enum."""

    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    HIGH_RISK_OF_FRAUD = "HIGH_RISK_OF_FRAUD"
    INCORRECT_ADDRESS = "INCORRECT_ADDRESS"
    INVENTORY_OUT_OF_STOCK = "INVENTORY_OUT_OF_STOCK"
    OTHER = "OTHER"
    UNKNOWN_DELIVERY_DATE = "UNKNOWN_DELIVERY_DATE"
    AWAITING_RETURN_ITEMS = "AWAITING_RETURN_ITEMS"


class TriageOutcome(StrEnum):
    """How an order proceeds. Ordered by severity: exception beats flagged beats standard."""

    STANDARD = "standard"
    FLAGGED = "flagged"
    EXCEPTION = "exception"


_SEVERITY = {TriageOutcome.STANDARD: 0, TriageOutcome.FLAGGED: 1, TriageOutcome.EXCEPTION: 2}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Condition(_Strict):
    """A rule's ``when``: every predicate given must hold (AND); ``all`` / ``any`` nest conditions.

    A boolean predicate compares the fact to the value given, so ``requires_split: false`` means
    "does not need a split". At least one predicate (or ``all`` / ``any``) is required.
    """

    total_price_at_least: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    customer_tag_any: tuple[str, ...] | None = Field(default=None, min_length=1)
    order_tag_any: tuple[str, ...] | None = Field(default=None, min_length=1)
    fraud_score_at_least: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    fraud_review: bool | None = None
    note_tag_any: tuple[NoteTag, ...] | None = Field(default=None, min_length=1)
    financial_status_in: tuple[FinancialStatus, ...] | None = Field(default=None, min_length=1)
    out_of_stock_everywhere: bool | None = None
    backordered_line: bool | None = None
    address_unshippable: bool | None = None
    address_missing: bool | None = None
    requires_split: bool | None = None
    ship_complete_requested_and_split: bool | None = None
    contains_bundle_sku: bool | None = None
    all: tuple[Condition, ...] | None = Field(default=None, min_length=1)
    any: tuple[Condition, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if not self.model_fields_set or all(getattr(self, f) is None for f in self.model_fields_set):
            raise ValueError("a condition needs at least one predicate")
        return self


class TriageRule(_Strict):
    """One rule: when ``when`` holds, the order gets ``outcome`` for ``reason`` and a hold of ``hold_reason``.

    A ``standard`` rule only annotates (a reason and a tag, e.g. VIP priority) and places no hold;
    ``flagged`` and ``exception`` rules must name the hold they place.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")
    outcome: TriageOutcome
    reason: str = Field(min_length=1)
    hold_reason: HoldReason | None = None
    when: Condition

    @model_validator(mode="after")
    def _hold_matches_outcome(self) -> TriageRule:
        if self.outcome is TriageOutcome.STANDARD and self.hold_reason is not None:
            raise ValueError("a standard (annotation) rule places no hold: remove hold_reason")
        if self.outcome is not TriageOutcome.STANDARD and self.hold_reason is None:
            raise ValueError(f"a {self.outcome.value} rule needs a hold_reason")
        return self


class TriageRules(_Strict):
    """The whole rule file: version, rules, the bundle (kit) map and the tags that ask for ship-complete."""

    version: str = Field(min_length=1)
    rules: tuple[TriageRule, ...] = Field(min_length=1)
    bundles: dict[str, dict[str, int]] = Field(default_factory=dict)
    ship_complete_order_tags: tuple[str, ...] = ("ship-complete",)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[TriageRule, ...]) -> tuple[TriageRule, ...]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule {rule.id!r}: id is used twice")
            seen.add(rule.id)
        return rules

    @field_validator("bundles")
    @classmethod
    def _flat_bundles(cls, bundles: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        for bundle, components in bundles.items():
            if not components:
                raise ValueError(f"bundle {bundle!r} has no components")
            for sku, qty in components.items():
                if qty < 1:
                    raise ValueError(f"bundle {bundle!r}: component {sku!r} quantity must be at least 1")
                # One level only: a kit of kits would hide stock needs behind a second expansion.
                if sku in bundles:
                    raise ValueError(f"bundle {bundle!r}: component {sku!r} is itself a bundle")
        return bundles


class TriageRulesError(ValueError):
    """A rule file that does not validate; each line names the rule id (when known) and the field."""


def _describe(error: ValidationError, raw: Any) -> str:
    lines = []
    for e in error.errors():
        loc = list(e["loc"])
        where = ".".join(str(p) for p in loc) or "(root)"
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            rules = raw.get("rules") if isinstance(raw, Mapping) else None
            rule = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
            rule_id = rule.get("id") if isinstance(rule, Mapping) else None
            field = ".".join(str(p) for p in loc[2:]) or "(rule)"
            where = f"rule {rule_id!r} (rules[{loc[1]}]) field {field}"
        lines.append(f"{where}: {e['msg']}")
    return "\n".join(lines)


def parse_triage_rules(data: Any, *, source: str = "<data>") -> TriageRules:
    """Validate already-loaded rule data; raises :class:`TriageRulesError` naming rule id and field."""
    try:
        return TriageRules.model_validate(data)
    except ValidationError as error:
        raise TriageRulesError(f"invalid triage rules in {source}:\n{_describe(error, data)}") from error


def load_triage_rules(path: Path | str | None = None) -> TriageRules:
    """Read and validate a triage rule file (default: the ``triage_rules.yaml`` shipped with this module)."""
    source = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise TriageRulesError(f"invalid triage rules in {source}: not YAML ({error})") from error
    return parse_triage_rules(data, source=str(source))


def expand_bundles(order: Order, bundles: Mapping[str, Mapping[str, int]]) -> list[tuple[str, int]]:
    """The units the order needs, per SKU, with every bundle (kit) SKU replaced by its components.

    Only lines that need shipping count. A line without a SKU is kept as ``line:<id>`` so that it
    shows up as unstockable rather than vanishing. SKUs keep their first-seen order; repeats add up.
    """
    needed: dict[str, int] = {}
    for line in order.line_items:
        if not line.requires_shipping:
            continue
        sku = line.sku or f"line:{line.id}"
        parts = bundles.get(sku, {sku: 1})
        for component, per_unit in parts.items():
            needed[component] = needed.get(component, 0) + per_unit * line.quantity
    return list(needed.items())


class TriageDecision(_Strict):
    """The triage result for one order version, stamped with the versions of everything that fed it."""

    order_id: str
    outcome: TriageOutcome
    reasons: tuple[tuple[str, str], ...] = ()
    hold_reasons: tuple[tuple[str, HoldReason], ...] = ()
    rules_version: str
    fraud_model_version: str
    notes_engine: str

    @property
    def fired_rule_ids(self) -> tuple[str, ...]:
        """The ids of the rules that fired, in rule-file order."""
        return tuple(rule_id for rule_id, _ in self.reasons)


class _Facts:
    """What the predicates look at, computed once per order."""

    def __init__(
        self, order: Order, rules: TriageRules, fraud: FraudAssessment, notes: NoteTags, outlook: FulfillmentOutlook
    ):
        self.order, self.fraud, self.notes, self.outlook = order, fraud, notes, outlook
        self.order_tags = {t.casefold() for t in order.tags}
        self.customer_tags = {t.casefold() for t in order.customer.tags} if order.customer else set()
        needed = expand_bundles(order, rules.bundles)
        shortages = [(sku, qty - outlook.available(sku)) for sku, qty in needed if qty > outlook.available(sku)]
        # A shortage that inbound stock covers is a backorder; one it does not is a dead end.
        self.out_of_stock_everywhere = any(short > outlook.incoming(sku) for sku, short in shortages)
        self.backordered_line = bool(shortages) and not self.out_of_stock_everywhere
        ships = any(line.requires_shipping for line in order.line_items)
        self.address_missing = ships and (
            order.shipping_address is None
            or not order.shipping_address.address1
            or not order.shipping_address.country_code
        )
        self.address_unshippable = ships and not outlook.address_shippable
        self.requires_split = ships and not outlook.one_location_ships_all
        ship_complete = NoteTag.SHIP_COMPLETE in notes.tags or bool(
            self.order_tags & {t.casefold() for t in rules.ship_complete_order_tags}
        )
        self.ship_complete_requested_and_split = ship_complete and (self.requires_split or self.backordered_line)
        self.contains_bundle_sku = any(line.sku in rules.bundles for line in order.line_items if line.sku)


def _holds(condition: Condition, facts: _Facts) -> bool:
    c = condition
    checks: list[bool] = []
    if c.total_price_at_least is not None:
        checks.append(facts.order.total_price.amount >= c.total_price_at_least)
    if c.customer_tag_any is not None:
        checks.append(bool(facts.customer_tags & {t.casefold() for t in c.customer_tag_any}))
    if c.order_tag_any is not None:
        checks.append(bool(facts.order_tags & {t.casefold() for t in c.order_tag_any}))
    if c.fraud_score_at_least is not None:
        checks.append(facts.fraud.score >= c.fraud_score_at_least)
    if c.fraud_review is not None:
        checks.append(facts.fraud.needs_review == c.fraud_review)
    if c.note_tag_any is not None:
        checks.append(bool(facts.notes.tags & set(c.note_tag_any)))
    if c.financial_status_in is not None:
        checks.append(facts.order.financial_status in c.financial_status_in)
    for flag in (
        "out_of_stock_everywhere",
        "backordered_line",
        "address_unshippable",
        "address_missing",
        "requires_split",
        "ship_complete_requested_and_split",
        "contains_bundle_sku",
    ):
        wanted = getattr(c, flag)
        if wanted is not None:
            checks.append(getattr(facts, flag) == wanted)
    if c.all is not None:
        checks.append(all(_holds(sub, facts) for sub in c.all))
    if c.any is not None:
        checks.append(any(_holds(sub, facts) for sub in c.any))
    return all(checks)


def triage_order(
    order: Order,
    rules: TriageRules,
    fraud: FraudAssessment,
    notes: NoteTags,
    outlook: FulfillmentOutlook,
) -> TriageDecision:
    """Triage one order: every rule whose condition holds fires; the most severe outcome wins.

    A pure function of its inputs: the same order, rules and signals always give the same decision.
    """
    facts = _Facts(order, rules, fraud, notes, outlook)
    fired = [rule for rule in rules.rules if _holds(rule.when, facts)]
    outcome = max((r.outcome for r in fired), key=_SEVERITY.__getitem__, default=TriageOutcome.STANDARD)
    return TriageDecision(
        order_id=order.id,
        outcome=outcome,
        reasons=tuple((r.id, r.reason) for r in fired),
        hold_reasons=tuple((r.id, r.hold_reason) for r in fired if r.hold_reason is not None),
        rules_version=rules.version,
        fraud_model_version=fraud.model_version,
        notes_engine=notes.engine,
    )
