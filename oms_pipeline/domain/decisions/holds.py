"""Hold policy, with Shopify ``fulfillmentOrderHold`` semantics: a reason enum plus a handle per hold.

Pure decisions only: which holds to place, keep or release after a triage decision. The writeback
gateway carries them out. One hold per rule that fired; at most 10 holds per fulfillment
order (Shopify's per-app limit; we treat the order's fulfillment order as one). A fraud hold is
never released by automation: only :func:`release_by_operator` can release it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from oms_pipeline.domain.decisions.triage import HoldReason, TriageDecision

MAX_HOLDS_PER_FULFILLMENT_ORDER = 10
DEFAULT_RECHECK_AFTER = timedelta(hours=24)
AUTOMATION_ACTOR = "oms-triage"


class Hold(BaseModel):
    """One hold on an order's fulfillment order, placed because rule ``rule_id`` fired."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str = Field(min_length=1)
    reason: HoldReason
    handle: str = Field(min_length=1, max_length=64)
    rule_id: str = Field(min_length=1)
    placed_at: AwareDatetime
    placed_by: str = Field(min_length=1)

    @property
    def is_fraud_hold(self) -> bool:
        """Whether only an operator may release this hold."""
        return self.reason is HoldReason.HIGH_RISK_OF_FRAUD


class HoldRelease(BaseModel):
    """The record of a hold released: by whom, why, when, and whether a person or automation did it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hold: Hold
    released_by: str = Field(min_length=1)
    why: str = Field(min_length=1)
    released_at: AwareDatetime
    by_operator: bool


class HoldChanges(BaseModel):
    """What to do with an order's holds: place new ones, release cleared ones, keep the rest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    place: tuple[Hold, ...] = ()
    release: tuple[Hold, ...] = ()
    keep: tuple[Hold, ...] = ()


class HoldLimitExceeded(ValueError):
    """More than 10 holds would be on one fulfillment order; the extra ones are refused."""


class HoldPolicyError(ValueError):
    """A hold operation the policy forbids (e.g. mixing orders, empty operator name or reason)."""


def hold_handle(rule_id: str) -> str:
    """The hold's handle: stable per rule, so a re-run finds the hold it placed instead of adding one."""
    return f"oms-{rule_id}"[:64]


def decide_hold_changes(
    existing_holds: Iterable[Hold],
    decision: TriageDecision,
    now: datetime,
    recheck_after: timedelta = DEFAULT_RECHECK_AFTER,
    *,
    placed_by: str = AUTOMATION_ACTOR,
) -> HoldChanges:
    """Decide the hold changes after a (re)triage of one order.

    - every rule that fired and has no hold yet gets one (exception rules too: an order that cannot
      proceed must not ship either);
    - an existing hold is released only when its rule no longer fires and ``recheck_after`` has
      passed since it was placed; otherwise it is kept;
    - a fraud hold (``HIGH_RISK_OF_FRAUD``) is always kept: a later payment or update event, or a
      lower score, never releases or replaces it;
    - more than 10 holds after the change raises :class:`HoldLimitExceeded`.
    """
    holds = list(existing_holds)
    foreign = sorted({h.order_id for h in holds if h.order_id != decision.order_id})
    if foreign:
        raise HoldPolicyError(f"order {decision.order_id}: holds of other orders given ({', '.join(foreign)})")
    firing = dict(decision.hold_reasons)
    held_rules = {h.rule_id for h in holds}

    keep: list[Hold] = []
    release: list[Hold] = []
    for hold in holds:
        cleared = hold.rule_id not in firing
        due = now >= hold.placed_at + recheck_after
        if cleared and due and not hold.is_fraud_hold:
            release.append(hold)
        else:
            keep.append(hold)

    place = [
        Hold(
            order_id=decision.order_id,
            reason=reason,
            handle=hold_handle(rule_id),
            rule_id=rule_id,
            placed_at=now,
            placed_by=placed_by,
        )
        for rule_id, reason in decision.hold_reasons
        if rule_id not in held_rules
    ]
    total = len(keep) + len(place)
    if total > MAX_HOLDS_PER_FULFILLMENT_ORDER:
        refused = ", ".join(h.rule_id for h in place[MAX_HOLDS_PER_FULFILLMENT_ORDER - len(keep) :])
        raise HoldLimitExceeded(
            f"order {decision.order_id}: {total} holds would exceed Shopify's limit of "
            f"{MAX_HOLDS_PER_FULFILLMENT_ORDER} per fulfillment order; refused: {refused}"
        )
    return HoldChanges(place=tuple(place), release=tuple(release), keep=tuple(keep))


def release_by_operator(hold: Hold, by: str, why: str, at: datetime) -> HoldRelease:
    """An operator releases a hold (the only way a fraud hold is ever released); returns the record."""
    if not by.strip() or not why.strip():
        raise HoldPolicyError(f"order {hold.order_id}: releasing hold {hold.handle} needs an operator name and a why")
    if at < hold.placed_at:
        raise HoldPolicyError(f"order {hold.order_id}: hold {hold.handle} cannot be released before it was placed")
    return HoldRelease(hold=hold, released_by=by, why=why, released_at=at, by_operator=True)


def release_by_automation(hold: Hold, why: str, at: datetime) -> HoldRelease:
    """The release record for a hold that :func:`decide_hold_changes` released; refuses fraud holds."""
    if hold.is_fraud_hold:
        raise HoldPolicyError(f"order {hold.order_id}: fraud hold {hold.handle} can only be released by an operator")
    return HoldRelease(hold=hold, released_by=AUTOMATION_ACTOR, why=why, released_at=at, by_operator=False)
