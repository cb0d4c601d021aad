"""One order's decision: triage, the state it moves to, its hold changes, and its fingerprint.

``decide_order`` is the pure core the pipeline (and ``oms bench decide``) runs per order: it takes
the order, the signals of the fraud, note and fulfillment engines, the order's current state and
holds, and returns everything the pipeline then persists and the gateway then carries out.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict

from oms_pipeline.domain.decisions.holds import (
    DEFAULT_RECHECK_AFTER,
    Hold,
    HoldChanges,
    decide_hold_changes,
)
from oms_pipeline.domain.decisions.signals import FraudAssessment, FulfillmentOutlook, NoteTags
from oms_pipeline.domain.decisions.states import OrderState, StateChange, transition
from oms_pipeline.domain.decisions.triage import TriageDecision, TriageOutcome, TriageRules, triage_order
from oms_pipeline.domain.orders import FulfillmentStatus, Order

# Lines we append to an order's note ourselves start with this; decisions ignore them.
OMS_NOTE_MARKER = "[oms]"
DECIDER = "oms-triage"
# The path a new order takes to triage; each step is a recorded transition.
_INTAKE = (OrderState.VALIDATED, OrderState.ENRICHED, OrderState.TRIAGED)


def customer_note(note: str | None) -> str | None:
    """The order note without the lines this system added to it."""
    if not note:
        return note
    kept = [line for line in note.splitlines() if not line.lstrip().startswith(OMS_NOTE_MARKER)]
    return "\n".join(kept).strip() or None


def note_with_line(note: str | None, line: str) -> str:
    """The note with ``line`` as this system's only line, under the customer's part (which is kept as is)."""
    kept = customer_note(note)
    return f"{kept}\n{line}" if kept else line


def order_fingerprint(order: Order) -> str:
    """A hash of what decisions read from an order.

    Leaves out ``updated_at``, ``tags``, our own note lines and the on-hold status our holds cause:
    our writebacks change exactly those,
    and must not make the order look new (that would decide and write again, forever).
    """
    content = order.model_dump(exclude={"updated_at", "tags", "note"})
    content["note"] = customer_note(order.note)
    if order.fulfillment_status is FulfillmentStatus.ON_HOLD:  # our own holds show the order as on hold
        content["fulfillment_status"] = FulfillmentStatus.UNFULFILLED.value
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"),
                                     default=_same_whichever_api).encode()).hexdigest()


def _same_whichever_api(value: Any) -> Any:
    """The fingerprint's view of a value: the same order read over REST or GraphQL hashes the same (REST
    stamps the shop's offset and GraphQL UTC; REST writes money as "0.00", GraphQL as "0.0")."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


class OrderDecision(BaseModel):
    """Everything decided about one order version in one run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str
    order_name: str
    fingerprint: str
    triage: TriageDecision
    fraud: FraudAssessment
    notes: NoteTags
    outlook: FulfillmentOutlook
    state: OrderState
    state_changes: tuple[StateChange, ...]
    holds: HoldChanges
    confidence: float
    trace_id: str
    decided_at: datetime

    @property
    def outcome(self) -> TriageOutcome:
        """Standard, flagged or exception."""
        return self.triage.outcome


def decision_confidence(order: Order, notes: NoteTags) -> float:
    """How sure the decision is: the note engine's confidence when a note was read, else full.

    The rule engine and the rules-based fraud score are deterministic; the note reading is the one
    probabilistic input, and a missed "please cancel" is the costly mistake.
    """
    return notes.confidence if customer_note(order.note) else 1.0


def _target_state(outcome: TriageOutcome, holds_after: int) -> OrderState:
    if outcome is TriageOutcome.EXCEPTION:
        return OrderState.EXCEPTION
    return OrderState.ON_HOLD if holds_after else OrderState.READY


def _path(current: OrderState | None, target: OrderState) -> list[OrderState]:
    """The states to pass through from ``current`` to a triage result ``target``."""
    if current is None or current is OrderState.RECEIVED:
        return [*_INTAKE, target]
    if current in _INTAKE:  # an interrupted intake goes on from where it stopped
        return [*_INTAKE[_INTAKE.index(current) + 1:], target]
    if current == target:
        return []
    if current is OrderState.EXCEPTION:  # the cause cleared: the order is validated again from scratch
        return [*_INTAKE, target]
    if current is OrderState.ON_HOLD and target is OrderState.ON_HOLD:
        return []
    return [target]


def _path_to_fulfilled(current: OrderState | None) -> list[OrderState]:
    """The states an order passes through to ``fulfilled`` when the store says it shipped."""
    tail = [OrderState.READY, OrderState.RELEASED, OrderState.FULFILLED]
    if current is OrderState.RELEASED:
        return [OrderState.FULFILLED]
    if current is OrderState.READY:
        return tail[1:]
    if current is OrderState.ON_HOLD:
        return tail
    return [*_path(current, OrderState.READY), *tail[1:]]


def decide_order(
    order: Order,
    *,
    rules: TriageRules,
    fraud: FraudAssessment,
    notes: NoteTags,
    outlook: FulfillmentOutlook,
    current_state: OrderState | None,
    holds: tuple[Hold, ...],
    now: datetime,
    trace_id: str,
    recheck_after: timedelta = DEFAULT_RECHECK_AFTER,
) -> OrderDecision:
    """Triage one order and work out its state changes and hold changes.

    - A new order goes received → validated → enriched → triaged → ready | on_hold | exception.
    - An order the store cancelled goes to cancelled; one the store fulfilled goes to fulfilled (through
      ready and released); orders already released, fulfilled or cancelled are not re-triaged.
    - Holds follow :func:`decide_hold_changes` (fraud holds are never released by automation).
    """
    triage = triage_order(order, rules, fraud, notes, outlook)
    start = current_state or OrderState.RECEIVED
    changes: list[StateChange] = []

    def move(to: OrderState, why: str) -> None:
        nonlocal start
        changes.append(transition(start, to, order_id=order.id, actor=DECIDER, reason=why, trace_id=trace_id, at=now))
        start = to

    settled = current_state in (OrderState.RELEASED, OrderState.FULFILLED, OrderState.CANCELLED)
    hold_changes = HoldChanges(keep=holds)
    if order.cancelled_at is not None and current_state not in (OrderState.CANCELLED, OrderState.FULFILLED):
        move(OrderState.CANCELLED, f"cancelled in the store ({order.cancel_reason or 'no reason given'})")
    elif order.fulfillment_status is FulfillmentStatus.FULFILLED and current_state is not OrderState.FULFILLED:
        # Shipped already (by us, or by someone in the store before we saw it): record the path, hold nothing.
        for step in _path_to_fulfilled(current_state):
            move(step, "fulfilled in the store" if step is OrderState.FULFILLED else f"{step.value} (already shipped)")
    elif not settled:
        hold_changes = decide_hold_changes(holds, triage, now, recheck_after)
        target = _target_state(triage.outcome, len(hold_changes.keep) + len(hold_changes.place))
        why = "; ".join(reason for _, reason in triage.reasons) or "no rule fired"
        for step in _path(current_state, target):
            move(step, why if step is target else f"{step.value} by {DECIDER}")
    return OrderDecision(
        order_id=order.id, order_name=order.name, fingerprint=order_fingerprint(order), triage=triage, fraud=fraud,
        notes=notes, outlook=outlook, state=start, state_changes=tuple(changes), holds=hold_changes,
        confidence=decision_confidence(order, notes), trace_id=trace_id, decided_at=now,
    )
