"""Policy: what the gateway refuses, whatever the caller asks, and the run-level circuit breaker.

Pure functions: no I/O. The gateway audits every verdict, so a refusal is always on record.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from oms_pipeline.domain.writeback.actions import ActionKind, RolloutMode, WriteAction

PAID_STATUSES = frozenset({"paid", "partially_paid", "partially_refunded", "authorized"})
FRAUD_HOLD_REASON = "HIGH_RISK_OF_FRAUD"
# Writes that stop or change what happens to an order; tags and metafields only inform.
DISRUPTIVE = frozenset({ActionKind.PLACE_HOLD, ActionKind.RELEASE_HOLD, ActionKind.UPDATE_NOTE,
                        ActionKind.CANCEL_ORDER, ActionKind.REFUND_ORDER})


class Disposition(StrEnum):
    """What happens to an action."""

    EXECUTE = "execute"
    REFUSE = "refuse"
    SHADOW = "shadow"
    REVIEW = "review"


@dataclass(frozen=True)
class Verdict:
    """The policy's answer for one action: what to do, under which rule, and why in words."""

    disposition: Disposition
    rule: str
    why: str


def evaluate_policy(action: WriteAction, mode: RolloutMode, confidence_threshold: float) -> Verdict:
    """Decide what to do with one action. Refusals come first and hold in every mode.

    - cancelling or refunding a paid order is never automatic; this version never cancels or refunds
      at all (an operator does it in the store admin), so those actions are always refused;
    - a fraud hold is released only by an operator;
    - operator actions (``oms holds release``, ``oms review approve``) are executed: the person is the
      review, whatever the workflow's mode;
    - shadow writes nothing; assisted queues for review; auto executes when the action's confidence
      clears the threshold and queues it for review otherwise.
    """
    if action.kind in (ActionKind.CANCEL_ORDER, ActionKind.REFUND_ORDER):
        paid = (action.financial_status or "") in PAID_STATUSES
        if not action.by_operator and paid:
            return Verdict(Disposition.REFUSE, "no-automatic-cancel-or-refund-of-paid-order",
                           f"{action.kind.value} of a {action.financial_status} order is never automatic")
        return Verdict(Disposition.REFUSE, "cancel-and-refund-in-store-admin",
                       f"{action.kind.value} is not performed by this system: do it in the store admin")
    if action.kind is ActionKind.RELEASE_HOLD and action.payload.get("reason") == FRAUD_HOLD_REASON \
            and not action.by_operator:
        return Verdict(Disposition.REFUSE, "fraud-hold-needs-operator",
                       "a fraud hold is released only by an operator (oms holds release)")
    if action.by_operator:
        return Verdict(Disposition.EXECUTE, "operator", f"requested by operator {action.actor}")
    if mode is RolloutMode.SHADOW:
        return Verdict(Disposition.SHADOW, "shadow-mode", f"{action.workflow.value} runs in shadow mode")
    if mode is RolloutMode.ASSISTED:
        return Verdict(Disposition.REVIEW, "assisted-mode", f"{action.workflow.value} needs an operator's approval")
    if action.confidence < confidence_threshold:
        return Verdict(Disposition.REVIEW, "low-confidence",
                       f"confidence {_down(action.confidence)} is below the threshold {confidence_threshold:.2f}")
    return Verdict(Disposition.EXECUTE, "auto-mode", "confidence clears the threshold")


def _down(value: float) -> str:
    """Two decimals, rounded down: a confidence just under the threshold never prints as equal to it."""
    return f"{math.floor(value * 100) / 100:.2f}"


@dataclass(frozen=True)
class CircuitBreaker:
    """Stops a run that would take disruptive actions on more than ``max_share`` of its orders.

    A rule or model gone wrong shows up as "hold everything"; the breaker turns that into one
    audited refusal instead of thousands of holds. Batches under ``min_orders`` are too small for a
    share to mean anything and always pass.
    """

    max_share: float = 0.5
    min_orders: int = 20

    def check(self, actions: Iterable[WriteAction], batch_orders: int) -> tuple[bool, str]:
        """(tripped, explanation) for the actions one run intends on ``batch_orders`` orders."""
        touched = {a.order_id for a in actions if a.kind in DISRUPTIVE and not a.by_operator}
        share = len(touched) / batch_orders if batch_orders else 0.0
        why = (f"{len(touched)} of {batch_orders} orders ({share:.0%}) would get holds, releases or note changes; "
               f"the limit is {self.max_share:.0%}")
        return batch_orders >= self.min_orders and share > self.max_share, why
