"""Fakes for the gateway's tests: an executor that records what it was asked to send."""

from __future__ import annotations

from oms_pipeline.domain.writeback.actions import ActionKind, WriteAction
from oms_pipeline.gateway.gateway import ExecutionResult


class RecordingExecutor:
    """Stands in for the store and channels: records what it was asked to send; fails ``fail_times`` times
    first (unreachable), refuses the kinds in ``reject``, and answers ``answers[kind]`` where given."""

    def __init__(self, fail_times: int = 0, reject: set[ActionKind] = frozenset(),
                 answers: dict[ActionKind, ExecutionResult] | None = None):
        self.sent: list[WriteAction] = []
        self.fail_times = fail_times
        self.reject = reject
        self.answers = answers or {}

    def supports(self, kind: ActionKind) -> bool:
        return kind not in (ActionKind.CANCEL_ORDER, ActionKind.REFUND_ORDER)

    def execute(self, action: WriteAction) -> ExecutionResult:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("store unreachable")
        self.sent.append(action)
        if action.kind in self.reject:
            return ExecutionResult("rejected", "tags: Tag is invalid")
        return self.answers.get(action.kind, ExecutionResult("done", "", f"ref-{len(self.sent)}"))
