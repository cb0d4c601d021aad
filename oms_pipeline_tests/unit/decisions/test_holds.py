from __future__ import annotations

from datetime import timedelta

import pytest

from oms_pipeline.domain.decisions import (
    Hold,
    HoldLimitExceeded,
    HoldPolicyError,
    HoldReason,
    TriageDecision,
    TriageOutcome,
    decide_hold_changes,
    release_by_automation,
    release_by_operator,
)
from oms_pipeline_tests.support.orders import T0


def _decision(*fired: tuple[str, HoldReason], outcome=TriageOutcome.FLAGGED) -> TriageDecision:
    return TriageDecision(
        order_id="1001",
        outcome=outcome if fired else TriageOutcome.STANDARD,
        reasons=tuple((rule_id, f"{rule_id} fired") for rule_id, _ in fired),
        hold_reasons=fired,
        rules_version="t",
        fraud_model_version="f",
        notes_engine="n",
    )


def _hold(rule_id: str, reason=HoldReason.OTHER, placed_at=T0) -> Hold:
    return Hold(order_id="1001", reason=reason, handle=f"oms-{rule_id}", rule_id=rule_id, placed_at=placed_at,
                placed_by="oms-triage")  # fmt: skip


def test_places_one_hold_per_fired_rule():
    changes = decide_hold_changes([], _decision(("vip-customer", HoldReason.OTHER), ("high-fraud-risk",
                                  HoldReason.HIGH_RISK_OF_FRAUD)), T0)  # fmt: skip
    assert [(h.rule_id, h.reason, h.handle) for h in changes.place] == [
        ("vip-customer", HoldReason.OTHER, "oms-vip-customer"),
        ("high-fraud-risk", HoldReason.HIGH_RISK_OF_FRAUD, "oms-high-fraud-risk"),
    ]
    assert all(h.placed_at == T0 and h.placed_by == "oms-triage" for h in changes.place)
    assert changes.release == () and changes.keep == ()


def test_existing_hold_for_a_firing_rule_is_kept_not_placed_again():
    existing = _hold("vip-customer")
    changes = decide_hold_changes([existing], _decision(("vip-customer", HoldReason.OTHER)), T0 + timedelta(days=3))
    assert changes.place == () and changes.keep == (existing,) and changes.release == ()


def test_cleared_rule_is_kept_before_recheck_and_released_after():
    existing = _hold("split-shipment")
    before = decide_hold_changes([existing], _decision(), T0 + timedelta(hours=23))
    assert before.keep == (existing,) and before.release == ()
    after = decide_hold_changes([existing], _decision(), T0 + timedelta(hours=24))
    assert after.release == (existing,) and after.keep == ()
    custom = decide_hold_changes([existing], _decision(), T0 + timedelta(hours=2), recheck_after=timedelta(hours=1))
    assert custom.release == (existing,)


def test_fraud_hold_is_never_released_by_automation():
    fraud_hold = _hold("high-fraud-risk", HoldReason.HIGH_RISK_OF_FRAUD)
    # A later payment/update event re-triages the order as standard: the fraud hold stays as it was.
    changes = decide_hold_changes([fraud_hold], _decision(), T0 + timedelta(days=30))
    assert changes.keep == (fraud_hold,) and changes.release == () and changes.place == ()
    # A different rule now firing with a fraud reason adds its own hold and leaves the first untouched.
    changes = decide_hold_changes([fraud_hold], _decision(("awaiting-payment", HoldReason.AWAITING_PAYMENT)), T0)
    assert changes.keep == (fraud_hold,) and [h.rule_id for h in changes.place] == ["awaiting-payment"]
    with pytest.raises(HoldPolicyError, match="only be released by an operator"):
        release_by_automation(fraud_hold, "rule cleared", T0 + timedelta(days=2))


def test_operator_release_works_and_is_recorded():
    fraud_hold = _hold("high-fraud-risk", HoldReason.HIGH_RISK_OF_FRAUD)
    release = release_by_operator(fraud_hold, by="alice", why="called the customer", at=T0 + timedelta(hours=1))
    assert (release.hold, release.released_by, release.why, release.by_operator) == (
        fraud_hold,
        "alice",
        "called the customer",
        True,
    )
    with pytest.raises(HoldPolicyError, match="operator name and a why"):
        release_by_operator(fraud_hold, by=" ", why="x", at=T0)
    with pytest.raises(HoldPolicyError, match="before it was placed"):
        release_by_operator(fraud_hold, by="alice", why="x", at=T0 - timedelta(seconds=1))


def test_automation_release_record_for_ordinary_hold():
    record = release_by_automation(_hold("split-shipment"), "rule cleared", T0 + timedelta(days=1))
    assert record.released_by == "oms-triage" and not record.by_operator


def test_ten_holds_allowed_eleventh_refused():
    existing = [_hold(f"rule-{i}") for i in range(9)]
    fired = tuple((f"rule-{i}", HoldReason.OTHER) for i in range(10))
    assert len(decide_hold_changes(existing, _decision(*fired), T0).place) == 1  # the 10th hold
    with pytest.raises(HoldLimitExceeded, match=r"order 1001: 11 holds .* limit of 10 .* refused: rule-10"):
        decide_hold_changes(existing, _decision(*fired, ("rule-10", HoldReason.OTHER)), T0)


def test_released_holds_free_their_slot():
    existing = [_hold(f"rule-{i}") for i in range(10)]
    fired = tuple((f"rule-{i}", HoldReason.OTHER) for i in range(1, 10)) + (("new-rule", HoldReason.OTHER),)
    changes = decide_hold_changes(existing, _decision(*fired), T0 + timedelta(days=1))
    assert [h.rule_id for h in changes.release] == ["rule-0"]
    assert [h.rule_id for h in changes.place] == ["new-rule"]


def test_holds_of_another_order_are_refused():
    other = _hold("x").model_copy(update={"order_id": "9"})
    with pytest.raises(HoldPolicyError, match="order 1001: holds of other orders given \\(9\\)"):
        decide_hold_changes([other], _decision(), T0)
