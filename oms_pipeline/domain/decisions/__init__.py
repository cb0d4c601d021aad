"""Decisions on an order: its state machine, triage, hold policy and the signals they consume.

Pure domain code: no I/O beyond reading the shipped rule file on request.
"""

from oms_pipeline.domain.decisions.holds import (
    Hold,
    HoldChanges,
    HoldLimitExceeded,
    HoldPolicyError,
    HoldRelease,
    decide_hold_changes,
    release_by_automation,
    release_by_operator,
)
from oms_pipeline.domain.decisions.signals import (
    FraudAssessment,
    FulfillmentOutlook,
    NoteTag,
    NoteTags,
    keyword_note_tags,
    rule_based_fraud_assessment,
)
from oms_pipeline.domain.decisions.states import (
    ALLOWED_TRANSITIONS,
    IllegalTransition,
    OrderState,
    StateChange,
    can_transition,
    transition,
)
from oms_pipeline.domain.decisions.triage import (
    HoldReason,
    TriageDecision,
    TriageOutcome,
    TriageRules,
    TriageRulesError,
    expand_bundles,
    load_triage_rules,
    parse_triage_rules,
    triage_order,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "FraudAssessment",
    "FulfillmentOutlook",
    "Hold",
    "HoldChanges",
    "HoldLimitExceeded",
    "HoldPolicyError",
    "HoldReason",
    "HoldRelease",
    "IllegalTransition",
    "NoteTag",
    "NoteTags",
    "OrderState",
    "StateChange",
    "TriageDecision",
    "TriageOutcome",
    "TriageRules",
    "TriageRulesError",
    "can_transition",
    "decide_hold_changes",
    "expand_bundles",
    "keyword_note_tags",
    "load_triage_rules",
    "parse_triage_rules",
    "release_by_automation",
    "release_by_operator",
    "rule_based_fraud_assessment",
    "transition",
    "triage_order",
]
