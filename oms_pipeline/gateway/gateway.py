"""The gateway: policy, audit first, ledger, send with retries, record the outcome.

For each action of a run: evaluate policy and the workflow's rollout mode; write the audit record
(and the ledger claim or review item) before anything is sent; send through the executor (whose
clients retry 429/5xx/timeouts honouring ``Retry-After`` and GraphQL throttle status); record the
outcome. A key already ``done`` in the ledger is never sent again, so re-running any run performs
no new external write.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import uuid4

from oms_pipeline.domain.pii import redact
from oms_pipeline.domain.writeback.actions import ActionKind, RolloutMode, Workflow, WriteAction, canonical_json
from oms_pipeline.domain.writeback.policy import CircuitBreaker, CircuitOpen, Disposition, evaluate_policy
from oms_pipeline.storage.writeback import WritebackStore

log = logging.getLogger(__name__)

FLUSH_EVERY = 25  # outcomes recorded per transaction; a killed run re-checks at most this many
STOP_AFTER_FAILURES = 3  # consecutive unreachable-system failures before the rest is deferred


@dataclass(frozen=True)
class ExecutionResult:
    """What the external system made of one write: ``done`` or ``rejected`` (its user errors)."""

    status: str
    detail: str = ""
    external_ref: str | None = None


class ActionExecutor(Protocol):
    """Carries out actions against the external systems. Raises when a system cannot be reached."""

    def supports(self, kind: ActionKind) -> bool:
        """Whether a channel for ``kind`` is configured."""

    def execute(self, action: WriteAction) -> ExecutionResult:
        """Send one action (idempotently where the system allows it)."""


@dataclass
class GatewayReport:
    """What one gateway run did, per outcome and per workflow."""

    outcomes: Counter = field(default_factory=Counter)
    by_workflow: dict[str, Counter] = field(default_factory=dict)
    refusals: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)

    def add(self, action: WriteAction, outcome: str) -> None:
        """Count one action's outcome."""
        self.outcomes[outcome] += 1
        self.by_workflow.setdefault(action.workflow.value, Counter())[outcome] += 1

    @property
    def written(self) -> int:
        """External writes performed by this run."""
        return self.outcomes["written"]

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts for logs and Dagster metadata."""
        return {"outcomes": dict(self.outcomes), "by_workflow": {k: dict(v) for k, v in self.by_workflow.items()},
                "refusals": self.refusals[:20], "failures": self.failures[:20]}


def _masked_payload(action: WriteAction) -> str:
    masked = {k: redact(v) if isinstance(v, str) else v for k, v in action.payload.items()}
    return canonical_json(masked)


class WritebackGateway:
    """The only way the pipeline writes outside itself."""

    def __init__(self, store: WritebackStore, executor: ActionExecutor, modes: Mapping[Workflow, RolloutMode], *,
                 confidence_threshold: float = 0.8, breaker: CircuitBreaker | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), workers: int = 16):
        self.store = store
        self.executor = executor
        self.modes = dict(modes)
        self.confidence_threshold = confidence_threshold
        self.breaker = breaker or CircuitBreaker()
        self.clock = clock
        self.workers = workers

    def mode(self, workflow: Workflow) -> RolloutMode:
        """The rollout mode of a workflow (shadow unless configured)."""
        return self.modes.get(workflow, RolloutMode.SHADOW)

    def run(self, actions: Sequence[WriteAction], run_id: str, batch_orders: int) -> GatewayReport:
        """Carry out one run's actions; raises :class:`CircuitOpen` (after auditing) if the breaker trips."""
        report = GatewayReport()
        if not actions:
            return report
        now = self.clock()
        ledger = self.store.ledger([a.idempotency_key for a in actions])
        fresh = [a for a in actions if ledger.get(a.idempotency_key) is None
                 or ledger[a.idempotency_key].status == "pending"]
        live = [a for a in fresh if self.mode(a.workflow) is not RolloutMode.SHADOW]
        tripped, why = self.breaker.check(live, batch_orders)

        audit_rows, ledger_rows, review_rows, to_send = [], [], [], []
        seen: set[str] = set()
        attempt = uuid4().hex[:16]  # a run may be re-executed: audit ids are unique per gateway pass
        for n, action in enumerate(actions):
            key = action.idempotency_key
            entry = ledger.get(key)
            mode = self.mode(action.workflow)
            if key in seen or (entry is not None and entry.status != "pending"):
                outcome, detail = "duplicate", f"already {entry.status if entry else 'in this run'}; not sent again"
            elif tripped:
                outcome, detail = "circuit_open", why
            else:
                verdict = evaluate_policy(action, mode, self.confidence_threshold)
                outcome, detail = {
                    Disposition.EXECUTE: "started", Disposition.REFUSE: "refused", Disposition.SHADOW: "shadow",
                    Disposition.REVIEW: "queued_for_review"}[verdict.disposition], f"{verdict.rule}: {verdict.why}"
                if verdict.disposition is Disposition.REFUSE:
                    report.refusals.append({"order_id": action.order_id, "action": action.kind.value,
                                            "rule": verdict.rule})
                elif not self.executor.supports(action.kind):
                    outcome, detail = "not_configured", f"no channel configured for {action.kind.value}"
                elif verdict.disposition is Disposition.REVIEW:
                    review_rows.append(self._review_row(action, verdict.why, now))
            seen.add(key)
            audit_id = f"{attempt}-{n:06d}"
            audit_rows.append(self._audit_row(audit_id, action, run_id, mode, outcome, detail, now))
            if outcome == "started":
                to_send.append((audit_id, action, entry))
                if entry is None:
                    ledger_rows.append(self._ledger_row(action, now))
            else:
                report.add(action, outcome)
        self.store.begin(audit_rows, ledger_rows, review_rows)
        if tripped:
            raise CircuitOpen(f"circuit breaker: {why}; nothing was sent (see audit_log for run {run_id})")
        self._send(to_send, report)
        return report

    def _send(self, to_send: list[tuple[str, WriteAction, Any]], report: GatewayReport) -> None:
        """Send the actions, one order's actions in sequence, ``workers`` orders at a time.

        Retries (429/5xx/timeouts) wait inside each worker, so one slow order does not hold up the
        others; the store's bucket still paces everyone. Outcomes are recorded by this thread, in
        batches; after ``STOP_AFTER_FAILURES`` unreachable-system failures in a row the rest is deferred.
        """
        by_order: dict[str, list[tuple[str, WriteAction, Any]]] = {}
        for item in to_send:
            by_order.setdefault(item[1].order_id, []).append(item)
        state = {"failures_in_row": 0}
        lock = threading.Lock()

        def send_order(items: list[tuple[str, WriteAction, Any]]) -> list[dict[str, Any]]:
            done = []
            for audit_id, action, entry in items:
                attempts = (entry.attempts if entry else 0) + 1
                with lock:
                    stopped = state["failures_in_row"] >= STOP_AFTER_FAILURES
                if stopped:
                    done.append(self._outcome(audit_id, action, "deferred", "earlier writes failed; left for the "
                                              "next run", "pending", None, attempts - 1))
                    continue
                try:
                    result = self.executor.execute(action)
                except Exception as exc:  # noqa: BLE001 - any failure to reach the system leaves the key pending
                    with lock:
                        state["failures_in_row"] += 1
                    detail = f"{type(exc).__name__}: {redact(str(exc))}"[:500]
                    log.warning("writeback %s for order %s failed: %s", action.kind.value, action.order_id, detail)
                    done.append(self._outcome(audit_id, action, "failed", detail, "pending", None, attempts))
                else:
                    with lock:
                        state["failures_in_row"] = 0
                    outcome = "written" if result.status == "done" else "rejected"
                    done.append(self._outcome(audit_id, action, outcome, redact(result.detail) or "", result.status,
                                              result.external_ref, attempts))
            return done

        audit_updates: list[dict[str, Any]] = []
        ledger_updates: list[dict[str, Any]] = []
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="writeback") as pool:
            futures = [pool.submit(send_order, items) for items in by_order.values()]
            for future in as_completed(futures):
                chat = False
                for outcome in future.result():
                    action = outcome.pop("action")
                    report.add(action, outcome["audit"]["outcome"])
                    if outcome["audit"]["outcome"] == "failed":
                        report.failures.append({"order_id": action.order_id, "action": action.kind.value,
                                                "error": outcome["audit"]["detail"]})
                    audit_updates.append(outcome["audit"])
                    ledger_updates.append(outcome["ledger"])
                    chat = chat or action.kind is ActionKind.CHAT_ALERT
                # A chat message cannot be deduplicated by the receiver: record it before going on.
                if len(audit_updates) >= FLUSH_EVERY or chat:
                    self.store.finish(audit_updates, ledger_updates)
                    audit_updates, ledger_updates = [], []
        self.store.finish(audit_updates, ledger_updates)

    def _outcome(self, audit_id: str, action: WriteAction, outcome: str, detail: str, status: str,
                 ref: str | None, attempts: int) -> dict[str, Any]:
        now = self.clock()
        return {"action": action,
                "audit": {"audit_id": audit_id, "outcome": outcome, "detail": detail, "completed_at": now},
                "ledger": {"idempotency_key": action.idempotency_key, "status": status, "attempts": attempts,
                           "external_ref": ref, "detail": detail,
                           "completed_at": now if status != "pending" else None}}

    def _audit_row(self, audit_id: str, action: WriteAction, run_id: str, mode: RolloutMode, outcome: str,
                   detail: str, now: datetime) -> dict[str, Any]:
        return {
            "audit_id": audit_id, "trace_id": action.trace_id, "run_id": run_id, "shop_domain": action.shop_domain,
            "order_id": action.order_id, "workflow": action.workflow.value, "action": action.kind.value,
            "idempotency_key": action.idempotency_key, "payload_sha256": action.payload_sha256,
            "payload": _masked_payload(action), "rules_version": action.rules_version,
            "model_versions": action.model_versions, "mode": "operator" if action.by_operator else mode.value,
            "actor": action.actor, "outcome": outcome, "detail": detail, "created_at": now,
            "completed_at": None if outcome == "started" else now,
        }

    @staticmethod
    def _ledger_row(action: WriteAction, now: datetime) -> dict[str, Any]:
        return {
            "idempotency_key": action.idempotency_key, "shop_domain": action.shop_domain,
            "order_id": action.order_id, "workflow": action.workflow.value, "action": action.kind.value,
            "payload_sha256": action.payload_sha256, "status": "pending", "attempts": 0, "external_ref": None,
            "detail": None, "created_at": now, "completed_at": None,
        }

    @staticmethod
    def _review_row(action: WriteAction, why: str, now: datetime) -> dict[str, Any]:
        return {
            "review_id": action.idempotency_key[:12], "idempotency_key": action.idempotency_key,
            "shop_domain": action.shop_domain, "order_id": action.order_id, "workflow": action.workflow.value,
            "action": action.kind.value, "action_json": action.model_dump_json(),
            "why": f"{why}; decision: {action.why}", "confidence": action.confidence, "status": "pending",
            "created_at": now, "decided_by": None, "decided_at": None, "decision_note": None,
        }
