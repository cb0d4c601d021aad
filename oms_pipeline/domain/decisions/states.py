"""The order state machine: explicit states, the transitions allowed between them, and their record.

Every change of state is a :class:`StateChange` (who or what, when, why, trace id): the row a later
``order_state_history`` table stores. Anything not in :data:`ALLOWED_TRANSITIONS` is refused.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class OrderState(StrEnum):
    """Where an order stands in our pipeline (not the store's own status)."""

    RECEIVED = "received"
    VALIDATED = "validated"
    ENRICHED = "enriched"
    TRIAGED = "triaged"
    ON_HOLD = "on_hold"
    EXCEPTION = "exception"
    READY = "ready"
    RELEASED = "released"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


TERMINAL_STATES = frozenset({OrderState.FULFILLED, OrderState.CANCELLED})

_S = OrderState
# Forward path plus the ways back an operator or a re-run needs. Cancelling is allowed from every
# non-terminal state (added below) so it is not repeated per row.
_FORWARD: dict[OrderState, frozenset[OrderState]] = {
    _S.RECEIVED: frozenset({_S.VALIDATED, _S.EXCEPTION}),
    _S.VALIDATED: frozenset({_S.ENRICHED, _S.EXCEPTION}),
    _S.ENRICHED: frozenset({_S.TRIAGED, _S.EXCEPTION}),
    _S.TRIAGED: frozenset({_S.READY, _S.ON_HOLD, _S.EXCEPTION}),
    # A hold clears to ready, or the recheck re-triages it, or it turns out to be an exception.
    _S.ON_HOLD: frozenset({_S.READY, _S.TRIAGED, _S.EXCEPTION}),
    # Once an operator fixes the cause (e.g. the address), the order is re-validated from scratch.
    _S.EXCEPTION: frozenset({_S.VALIDATED}),
    # A ready order can still be held (late signal) before it is released to the warehouse.
    _S.READY: frozenset({_S.RELEASED, _S.ON_HOLD, _S.EXCEPTION}),
    _S.RELEASED: frozenset({_S.FULFILLED}),
    _S.FULFILLED: frozenset(),
    _S.CANCELLED: frozenset(),
}

ALLOWED_TRANSITIONS: MappingProxyType[OrderState, frozenset[OrderState]] = MappingProxyType(
    {
        state: targets | ({_S.CANCELLED} if state not in TERMINAL_STATES else frozenset())
        for state, targets in _FORWARD.items()
    }
)


class IllegalTransition(ValueError):
    """A transition the state machine does not allow; names the order and both states."""

    def __init__(self, order_id: str, current: OrderState, target: OrderState, why: str):
        self.order_id = order_id
        self.current = current
        self.target = target
        super().__init__(f"order {order_id}: cannot go from {current.value!r} to {target.value!r} ({why})")


class StateChange(BaseModel):
    """One recorded transition: what ``order_state_history`` keeps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str = Field(min_length=1)
    from_state: OrderState
    to_state: OrderState
    actor: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    trace_id: str = Field(min_length=1)
    at: AwareDatetime


def can_transition(current: OrderState, target: OrderState) -> bool:
    """Whether the state machine allows ``current`` → ``target``."""
    return OrderState(target) in ALLOWED_TRANSITIONS[OrderState(current)]


def transition(
    current_state: OrderState | str,
    target: OrderState | str,
    *,
    order_id: str,
    actor: str,
    reason: str,
    trace_id: str,
    at: datetime,
) -> StateChange:
    """Move an order from ``current_state`` to ``target`` and return the record of the change.

    Raises :class:`IllegalTransition` (naming the order and both states) when the move is not allowed.
    """
    current, wanted = OrderState(current_state), OrderState(target)
    if current in TERMINAL_STATES:
        raise IllegalTransition(order_id, current, wanted, f"{current.value} is terminal")
    if wanted not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[current]))
        raise IllegalTransition(order_id, current, wanted, f"allowed from {current.value}: {allowed}")
    return StateChange(
        order_id=order_id, from_state=current, to_state=wanted, actor=actor, reason=reason, trace_id=trace_id, at=at
    )
