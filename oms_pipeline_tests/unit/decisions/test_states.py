from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from oms_pipeline.domain.decisions import ALLOWED_TRANSITIONS, IllegalTransition, OrderState, can_transition, transition
from oms_pipeline_tests.support.orders import T0

S = OrderState
LEGAL = {
    (S.RECEIVED, S.VALIDATED), (S.RECEIVED, S.EXCEPTION), (S.RECEIVED, S.CANCELLED),
    (S.VALIDATED, S.ENRICHED), (S.VALIDATED, S.EXCEPTION), (S.VALIDATED, S.CANCELLED),
    (S.ENRICHED, S.TRIAGED), (S.ENRICHED, S.EXCEPTION), (S.ENRICHED, S.CANCELLED),
    (S.TRIAGED, S.READY), (S.TRIAGED, S.ON_HOLD), (S.TRIAGED, S.EXCEPTION), (S.TRIAGED, S.CANCELLED),
    (S.ON_HOLD, S.READY), (S.ON_HOLD, S.TRIAGED), (S.ON_HOLD, S.EXCEPTION), (S.ON_HOLD, S.CANCELLED),
    (S.EXCEPTION, S.VALIDATED), (S.EXCEPTION, S.CANCELLED),
    (S.READY, S.RELEASED), (S.READY, S.ON_HOLD), (S.READY, S.EXCEPTION), (S.READY, S.CANCELLED),
    (S.RELEASED, S.FULFILLED), (S.RELEASED, S.CANCELLED),
}  # fmt: skip
ALL_PAIRS = list(itertools.product(OrderState, OrderState))


def _move(current, target, order_id="1001"):
    return transition(current, target, order_id=order_id, actor="triage", reason="because", trace_id="tr-1", at=T0)


def test_table_matches_the_documented_transitions():
    assert {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets} == LEGAL


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_every_legal_transition_is_recorded(current, target):
    change = _move(current, target)
    assert (change.order_id, change.from_state, change.to_state) == ("1001", current, target)
    assert (change.actor, change.reason, change.trace_id, change.at) == ("triage", "because", "tr-1", T0)
    with pytest.raises(ValidationError):
        change.actor = "someone else"  # the history record is immutable


@pytest.mark.parametrize(("current", "target"), [p for p in ALL_PAIRS if p not in LEGAL])
def test_every_illegal_transition_names_order_and_both_states(current, target):
    assert not can_transition(current, target)
    with pytest.raises(IllegalTransition) as caught:
        _move(current, target, order_id="4242")
    message = str(caught.value)
    assert "order 4242" in message
    assert repr(current.value) in message and repr(target.value) in message
    assert (caught.value.current, caught.value.target) == (current, target)


def test_guards():
    assert [s for s in OrderState if can_transition(s, S.RELEASED)] == [S.READY]
    non_terminal = [s for s in OrderState if s not in (S.FULFILLED, S.CANCELLED)]
    assert all(can_transition(s, S.CANCELLED) for s in non_terminal)
    assert not ALLOWED_TRANSITIONS[S.FULFILLED] and not ALLOWED_TRANSITIONS[S.CANCELLED]


def test_states_given_as_text_and_aware_time_required():
    assert _move("ready", "released").to_state is S.RELEASED
    with pytest.raises(ValidationError):
        transition("ready", "released", order_id="1", actor="a", reason="r", trace_id="t", at=T0.replace(tzinfo=None))
    with pytest.raises(ValidationError):
        transition("ready", "released", order_id="1", actor="", reason="r", trace_id="t", at=T0)
