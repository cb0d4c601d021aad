"""Sending what the outbox holds: the writeback step of every run.

Whichever run executes it (the sensor's, the hourly schedule's, ``oms ingest --once``), the writeback
first lets through what the quality gate allows: this run's intents (its gate passed, or the step
would not run) and those of earlier runs that died before their writeback, after checking their
decisions and plans with the same gate (a run whose gate fails has its intents closed as
``blocked``, with the failed expectations). Then it sends every open intent of its workflows, oldest
first, whichever run recorded it: each is done, rejected with a reason, queued for an operator, or,
when its system cannot be reached, left open for the next run. The circuit breaker judges each
recording run's intents against that run's own batch, as if that run were sending them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from oms_pipeline.domain.writeback.actions import Workflow, WriteAction
from oms_pipeline.gateway.gateway import RETRY_LATER, GatewayReport, WritebackGateway
from oms_pipeline.quality.decision_expectations import validate_decisions
from oms_pipeline.quality.order_expectations import QualityReport
from oms_pipeline.storage.outbox import OPEN, StaleIntents
from oms_pipeline.storage.warehouse import Warehouse

# The order-flow step ``store_writeback`` sends these; ``tpl_handoff`` sends the handoffs after it.
STORE_WORKFLOWS = (Workflow.TRIAGE_TAGS, Workflow.HOLDS, Workflow.ROUTING, Workflow.NOTIFICATIONS)
HANDOFF_WORKFLOWS = (Workflow.FULFILLMENT_HANDOFF,)
DEFAULT_MAX_UNSENT_AGE = timedelta(minutes=60)


@dataclass
class DrainReport:
    """What one writeback step did: its gateway report, and how much of it earlier runs had left behind."""

    report: GatewayReport = field(default_factory=GatewayReport)
    own: Counter = field(default_factory=Counter)  # outcomes of this run's intents
    earlier: Counter = field(default_factory=Counter)  # outcomes of intents earlier runs recorded
    earlier_runs: list[str] = field(default_factory=list)  # runs whose intents this step sent
    gates_rechecked: int = 0  # earlier runs whose quality gate was checked here (they died before it)
    blocked: dict[str, int] = field(default_factory=dict)  # run -> intents closed because its gate failed

    @property
    def earlier_finished(self) -> int:
        """Intents of earlier runs this step finished (done, rejected, queued, refused...; not left open)."""
        return sum(n for outcome, n in self.earlier.items() if outcome not in RETRY_LATER)

    @property
    def left_open(self) -> int:
        """Intents still open after this step (their system could not be reached): the next run sends them."""
        return sum(n for outcome, n in (self.own + self.earlier).items() if outcome in RETRY_LATER)

    def metadata(self) -> dict[str, Any]:
        """JSON-ready figures for Dagster metadata and the CLI (counts and run ids only)."""
        return {"written": self.report.written, "outcomes": dict(self.report.outcomes),
                "by_workflow": {k: dict(v) for k, v in self.report.by_workflow.items()},
                "earlier_writes_finished": self.earlier_finished, "earlier_outcomes": dict(self.earlier),
                "earlier_runs": self.earlier_runs[:20], "gates_rechecked": self.gates_rechecked,
                "blocked_by_gate": sum(self.blocked.values()), "left_open": self.left_open,
                "refusals": self.report.refusals[:20], "failures": self.report.failures[:20],
                "may_have_been_posted": self.report.uncertain[:20], "circuit_open": self.report.circuit_open}


def decisions_gate(wh: Warehouse, run_id: str) -> tuple[QualityReport, int, int]:
    """The quality gate on what ``run_id`` decided and planned: (report, decisions, shipment lines)."""
    decisions, shipments = wh.decisions.checked_by_gate(run_id)
    return validate_decisions(decisions, shipments), len(decisions), len(shipments)


def release_gated(wh: Warehouse, shop: str, run_id: str, now: datetime, report: DrainReport) -> None:
    """Let this run's intents through (the caller runs only once its gate passed) and check the gate of
    earlier runs that died before theirs: those that pass go through, the others are blocked."""
    wh.outbox.release(run_id)
    for earlier in wh.outbox.awaiting_runs(shop, except_run=run_id):
        gate, _decisions, _lines = decisions_gate(wh, earlier)
        report.gates_rechecked += 1
        if gate.success:
            wh.outbox.release(earlier)
        else:
            failed = "; ".join(f.detail for f in gate.failures)[:1500]
            report.blocked[earlier] = wh.outbox.block(earlier, f"run {earlier} failed its quality gate: {failed}",
                                                      run_id, now)


def drain_outbox(wh: Warehouse, gateway: WritebackGateway, shop: str, run_id: str,
                 workflows: Sequence[Workflow], now: datetime | None = None) -> DrainReport:
    """The writeback step: release what the gate allows, then send every open intent of ``workflows``,
    oldest first, whichever run recorded it."""
    now = now or datetime.now(UTC)
    drained = DrainReport()
    release_gated(wh, shop, run_id, now, drained)
    names = [w.value for w in workflows]
    items = wh.outbox.unsent(shop, names, OPEN)
    groups: dict[str, list[WriteAction]] = {}
    for item in items:  # oldest first, so the groups are too
        groups.setdefault(item.run_id, []).append(item.action)
    batches = wh.outbox.orders_per_run(list(groups), names)
    for origin, actions in groups.items():
        report = gateway.run(actions, run_id, batch_orders=max(1, batches.get(origin, 1)))
        drained.report.merge(report)
        (drained.own if origin == run_id else drained.earlier).update(report.outcomes)
        if origin != run_id:
            drained.earlier_runs.append(origin)
    return drained


def send_operator_actions(wh: Warehouse, gateway: WritebackGateway, run_id: str,
                          actions: Sequence[WriteAction]) -> GatewayReport:
    """Send what an operator command recorded in the outbox under ``run_id`` (open, no gate: the person is
    the review). Whatever cannot be sent now stays open and the next run's writeback sends it."""
    return gateway.run(list(actions), run_id, batch_orders=1)


def unsent_too_long(wh: Warehouse, shop: str, now: datetime,
                    max_age: timedelta = DEFAULT_MAX_UNSENT_AGE) -> list[StaleIntents]:
    """Intents recorded more than ``max_age`` ago and still not sent, per workflow and status."""
    return wh.outbox.stale(now, max_age, shop)
