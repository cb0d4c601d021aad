"""The writeback gateway: the one place that writes to external systems (store, chat, helpdesk).

Every action is checked against policy and the workflow's rollout mode, audited before anything is
sent, made idempotent by a ledger key, sent with retries, and its outcome recorded.
"""

from oms_pipeline.gateway.actions import ActionKind, RolloutMode, Workflow, WriteAction
from oms_pipeline.gateway.policy import CircuitBreaker, CircuitOpen, Disposition, Verdict, evaluate_policy

__all__ = [
    "ActionKind", "CircuitBreaker", "CircuitOpen", "Disposition", "RolloutMode", "Verdict", "WriteAction",
    "Workflow", "evaluate_policy",
]
