"""The gateway: policy, audit first, ledger, send with retries, record the outcome.

For each action: evaluate policy and the workflow's rollout mode; write the audit record (and the
ledger claim or review item) before anything is sent; send through the executor (whose clients retry
429/5xx/timeouts honouring ``Retry-After`` and GraphQL throttle status); record the outcome. Every
record also closes the action's outbox rows in the same transaction, so what the outbox says is
unsent is exactly what no run has finished. A key already ``done`` in the ledger is never sent again.

A write the receiver cannot deduplicate (a Slack message) is marked ``sending`` in the ledger just
before it goes out. If a run finds one still ``sending`` (its process died before the answer was
recorded) or the answer itself was lost, the message may or may not have been posted: it goes to an
operator as "may have been posted" instead of being posted again.
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
from oms_pipeline.domain.writeback.policy import CircuitBreaker, Disposition, evaluate_policy
from oms_pipeline.storage.writeback import (
    DONE,
    PENDING,
    REJECTED,
    SENDING,
    SUPERSEDED,
    UNCERTAIN,
    LedgerEntry,
    WritebackRecords,
    WritebackStore,
)

log = logging.getLogger(__name__)

FLUSH_EVERY = 25  # outcomes recorded per transaction; a killed run re-sends at most this many (idempotently)
STOP_AFTER_FAILURES = 3  # consecutive unreachable-system failures before the rest is deferred
MAX_ATTEMPTS = 8  # failed sends of one key before an operator is asked whether to go on trying

# Outcomes that leave the write unsent and open for the next run.
RETRY_LATER = frozenset({"failed", "deferred"})
MAY_HAVE_BEEN_POSTED = "may have been posted"


@dataclass(frozen=True)
class ExecutionResult:
    """What the external system made of one write: ``done``, ``rejected`` (its user errors), or
    ``uncertain`` (the request went out and its answer was lost: it may or may not have taken effect)."""

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
    uncertain: list[dict[str, str]] = field(default_factory=list)
    circuit_open: list[str] = field(default_factory=list)  # why the breaker stopped a batch (nothing was sent)

    def add(self, action: WriteAction, outcome: str) -> None:
        """Count one action's outcome."""
        self.outcomes[outcome] += 1
        self.by_workflow.setdefault(action.workflow.value, Counter())[outcome] += 1

    def merge(self, other: GatewayReport) -> None:
        """Add another report's counts and lists to this one."""
        self.outcomes.update(other.outcomes)
        for workflow, counts in other.by_workflow.items():
            self.by_workflow.setdefault(workflow, Counter()).update(counts)
        self.refusals += other.refusals
        self.failures += other.failures
        self.uncertain += other.uncertain
        self.circuit_open += other.circuit_open

    @property
    def written(self) -> int:
        """External writes performed by this run."""
        return self.outcomes["written"]

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts for logs and Dagster metadata."""
        return {"outcomes": dict(self.outcomes), "by_workflow": {k: dict(v) for k, v in self.by_workflow.items()},
                "refusals": self.refusals[:20], "failures": self.failures[:20], "uncertain": self.uncertain[:20]}


def _masked_payload(action: WriteAction) -> str:
    masked = {k: redact(v) if isinstance(v, str) else v for k, v in action.payload.items()}
    return canonical_json(masked)


def _sendable(action: WriteAction, entry: LedgerEntry | None) -> bool:
    """Whether the key may go out now: never claimed, claimed but unconfirmed, or (for an operator who
    looked) a message whose earlier answer was lost."""
    return entry is None or entry.status == PENDING or (entry.status == UNCERTAIN and action.by_operator) or (
        entry.status == SUPERSEDED and action.kind.resendable)


class WritebackGateway:
    """The only way the pipeline writes outside itself."""

    def __init__(self, store: WritebackStore, executor: ActionExecutor, modes: Mapping[Workflow, RolloutMode], *,
                 confidence_threshold: float = 0.8, breaker: CircuitBreaker | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), workers: int = 16,
                 max_attempts: int = MAX_ATTEMPTS):
        self.store = store
        self.executor = executor
        self.modes = dict(modes)
        self.confidence_threshold = confidence_threshold
        self.breaker = breaker or CircuitBreaker()
        self.clock = clock
        self.workers = workers
        self.max_attempts = max_attempts
        self._records_lock = threading.Lock()  # the send workers and the recording thread share the warehouse

    def mode(self, workflow: Workflow) -> RolloutMode:
        """The rollout mode of a workflow (shadow unless configured)."""
        return self.modes.get(workflow, RolloutMode.SHADOW)

    def run(self, actions: Sequence[WriteAction], run_id: str, batch_orders: int) -> GatewayReport:
        """Carry out actions (one run's, or what an earlier run left unsent). If the circuit breaker trips,
        every action is audited and closed as ``circuit_open``, nothing is sent, and the report says why
        (``circuit_open``): the caller fails its run."""
        report = GatewayReport()
        if not actions:
            return report
        now = self.clock()
        ledger = self.store.ledger([a.idempotency_key for a in actions])
        live = [a for a in actions if _sendable(a, ledger.get(a.idempotency_key))
                and self.mode(a.workflow) is not RolloutMode.SHADOW]
        tripped, why = self.breaker.check(live, batch_orders)

        records = WritebackRecords()
        to_send: list[tuple[str, WriteAction, LedgerEntry | None]] = []
        seen: set[str] = set()
        attempt = uuid4().hex[:16]  # a run may be re-executed: audit ids are unique per gateway pass
        for n, action in enumerate(actions):
            key = action.idempotency_key
            entry = ledger.get(key)
            mode = self.mode(action.workflow)
            repeated = key in seen
            outcome, detail, review = self._disposition(action, entry, mode, repeated, tripped, why, report)
            if review is not None:
                # A suggestion is queued once; a question about a send (lost answer, repeated failures) is
                # asked again even if the same write was once suggested and approved.
                queue = records.reviews if review == "suggestion" else records.reopened_reviews
                queue.append(self._review_row(action, detail, now))
            if entry is not None and entry.status in (SENDING, SUPERSEDED) and review == "question":
                records.ledger_updates.append(self._ledger_update(action, UNCERTAIN, entry.attempts, None, detail,
                                                                  None))
            seen.add(key)
            audit_id = f"{attempt}-{n:06d}"
            records.audit.append(self._audit_row(audit_id, action, run_id, mode, outcome, detail, now))
            if outcome == "started":
                to_send.append((audit_id, action, entry))
                if entry is None:
                    records.ledger_claims.append(self._ledger_row(action, now))
            else:
                report.add(action, outcome)
                if not repeated:  # a repeat's rows close with the first occurrence's outcome, once it has one
                    records.closures.append({"idempotency_key": key, "outcome": outcome, "detail": detail})
        self.store.record(records, run_id, now)
        if tripped:
            report.circuit_open.append(f"circuit breaker: {why}; nothing was sent (see audit_log for run {run_id})")
            return report
        self._send(to_send, report, run_id)
        return report

    def _disposition(self, action: WriteAction, entry: LedgerEntry | None, mode: RolloutMode, repeated: bool,
                     tripped: bool, why: str, report: GatewayReport) -> tuple[str, str, str | None]:
        """(outcome, detail, review) for one action before anything is sent; ``started`` means send it.
        ``review`` is None, ``suggestion`` (policy wants a person) or ``question`` (a send went wrong)."""
        if repeated:
            return "duplicate", "already in this run; not sent again", None
        if entry is not None and entry.status in (DONE, REJECTED):
            return "duplicate", f"already {entry.status}; not sent again", None
        if entry is not None and (entry.status == SENDING or (entry.status == SUPERSEDED
                                                               and not action.kind.resendable)):
            report.uncertain.append({"order_id": action.order_id, "action": action.kind.value})
            return "queued_for_review", (f"{MAY_HAVE_BEEN_POSTED}: an earlier attempt went out and its answer was "
                                         "lost; approve to send it again, reject if it arrived"), "question"
        if entry is not None and entry.status == UNCERTAIN and not action.by_operator:
            return "queued_for_review", f"{MAY_HAVE_BEEN_POSTED}: waiting for an operator", None
        if tripped:
            return "circuit_open", why, None
        verdict = evaluate_policy(action, mode, self.confidence_threshold)
        if verdict.disposition is Disposition.REFUSE:
            report.refusals.append({"order_id": action.order_id, "action": action.kind.value, "rule": verdict.rule})
            return "refused", f"{verdict.rule}: {verdict.why}", None
        if verdict.disposition is Disposition.SHADOW:
            return "shadow", f"{verdict.rule}: {verdict.why}", None
        if not self.executor.supports(action.kind):
            return "not_configured", f"no channel configured for {action.kind.value}", None
        if verdict.disposition is Disposition.REVIEW:
            return "queued_for_review", f"{verdict.rule}: {verdict.why}", "suggestion"
        if entry is not None and entry.attempts >= self.max_attempts and not action.by_operator:
            return "queued_for_review", (f"failed {entry.attempts} times; approve to try again (the cause is in "
                                         "the audit log)"), "question"
        return "started", f"{verdict.rule}: {verdict.why}", None

    def _send(self, to_send: list[tuple[str, WriteAction, LedgerEntry | None]], report: GatewayReport,
              run_id: str) -> None:
        """Send the actions, one order's actions in sequence, ``workers`` orders at a time.

        Retries (429/5xx/timeouts) wait inside each worker, so one slow order does not hold up the
        others; the store's bucket still paces everyone. Outcomes are recorded by this thread, in
        batches; after ``STOP_AFTER_FAILURES`` unreachable-system failures in a row the rest is deferred.
        """
        by_order: dict[str, list[tuple[str, WriteAction, LedgerEntry | None]]] = {}
        for item in to_send:
            by_order.setdefault(item[1].order_id, []).append(item)
        state = {"failures_in_row": 0}
        lock = threading.Lock()

        def send_order(items: list[tuple[str, WriteAction, LedgerEntry | None]]) -> list[dict[str, Any]]:
            done = []
            for audit_id, action, entry in items:
                attempts = (entry.attempts if entry else 0) + 1
                with lock:
                    stopped = state["failures_in_row"] >= STOP_AFTER_FAILURES
                if stopped:
                    done.append(self._outcome(audit_id, action, "deferred", "earlier writes failed; left for the "
                                              "next run", PENDING, None, attempts - 1))
                    continue
                if not action.kind.resendable:
                    with self._records_lock:
                        self.store.mark_sending(action.idempotency_key, attempts, self.clock())
                try:
                    result = self.executor.execute(action)
                except Exception as exc:  # noqa: BLE001 - any failure to reach the system leaves the key pending
                    with lock:
                        state["failures_in_row"] += 1
                    detail = f"{type(exc).__name__}: {redact(str(exc))}"[:500]
                    log.warning("writeback %s for order %s failed: %s", action.kind.value, action.order_id, detail)
                    done.append(self._outcome(audit_id, action, "failed", detail, PENDING, None, attempts))
                else:
                    with lock:
                        state["failures_in_row"] = 0
                    if result.status == "uncertain":
                        detail = f"{MAY_HAVE_BEEN_POSTED}: {redact(result.detail)}; approve to send it again, " \
                                 "reject if it arrived"
                        done.append(self._outcome(audit_id, action, "queued_for_review", detail, UNCERTAIN, None,
                                                  attempts))
                        continue
                    outcome = "written" if result.status == DONE else "rejected"
                    done.append(self._outcome(audit_id, action, outcome, redact(result.detail) or "", result.status,
                                              result.external_ref, attempts))
            return done

        records = WritebackRecords()
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="writeback") as pool:
            futures = [pool.submit(send_order, items) for items in by_order.values()]
            for future in as_completed(futures):
                urgent = False
                for outcome in future.result():
                    action = outcome["action"]
                    audit = outcome["audit"]
                    report.add(action, audit["outcome"])
                    if audit["outcome"] == "failed":
                        report.failures.append({"order_id": action.order_id, "action": action.kind.value,
                                                "error": audit["detail"]})
                    if audit["outcome"] == "queued_for_review":
                        report.uncertain.append({"order_id": action.order_id, "action": action.kind.value})
                        records.reopened_reviews.append(self._review_row(action, audit["detail"], self.clock()))
                    records.audit_updates.append(audit)
                    records.ledger_updates.append(outcome["ledger"])
                    if audit["outcome"] not in RETRY_LATER:
                        records.closures.append({"idempotency_key": action.idempotency_key,
                                                 "outcome": audit["outcome"], "detail": audit["detail"]})
                    urgent = urgent or not action.kind.resendable
                # A write that cannot be resent blindly is recorded before going on.
                if len(records) >= FLUSH_EVERY or urgent:
                    with self._records_lock:
                        self.store.record(records, run_id, self.clock())
                    records = WritebackRecords()
        with self._records_lock:
            self.store.record(records, run_id, self.clock())

    def _outcome(self, audit_id: str, action: WriteAction, outcome: str, detail: str, status: str,
                 ref: str | None, attempts: int) -> dict[str, Any]:
        now = self.clock()
        return {"action": action,
                "audit": {"audit_id": audit_id, "outcome": outcome, "detail": detail, "completed_at": now},
                "ledger": self._ledger_update(action, status, attempts, ref, detail,
                                              now if status in (DONE, REJECTED) else None)}

    @staticmethod
    def _ledger_update(action: WriteAction, status: str, attempts: int, ref: str | None, detail: str,
                       completed_at: datetime | None) -> dict[str, Any]:
        return {"idempotency_key": action.idempotency_key, "status": status, "attempts": attempts,
                "external_ref": ref, "detail": detail, "completed_at": completed_at}

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
            "payload_sha256": action.payload_sha256, "status": PENDING, "attempts": 0, "external_ref": None,
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
