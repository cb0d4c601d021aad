"""The writes a decision asks for, per workflow. Pure: a decision in, actions out.

- triage_tags: ``tagsAdd`` of ``oms:<outcome>`` and one ``oms-rule:<id>`` per rule that fired, and
  ``metafieldsSet`` in the ``oms`` namespace (triage, fraud, trace id);
- holds: ``fulfillmentOrderHold`` per hold to place, ``fulfillmentOrderReleaseHold`` per hold
  automation releases;
- routing: the fulfillment plan as the ``oms.plan`` metafield, one line per shipment with its reason
  (see :func:`plan_action`; the order flow's ``fulfillment_plans`` step makes it after triage);
- notifications: for an exception, a chat alert, a helpdesk ticket and an ``[oms]`` line on the order note.

Texts name the order by its number, never by the customer: alerts and tickets carry no PII.
"""

from __future__ import annotations

import json

from oms_pipeline.domain.decisions.decide import OMS_NOTE_MARKER, OrderDecision
from oms_pipeline.domain.decisions.states import OrderState
from oms_pipeline.domain.decisions.triage import TriageOutcome
from oms_pipeline.domain.orders import Order
from oms_pipeline.domain.writeback.actions import ActionKind, Workflow, WriteAction

METAFIELD_NAMESPACE = "oms"
TAG_PREFIX = "oms:"
RULE_TAG_PREFIX = "oms-rule:"
SHOPIFY_TAG_MAX = 40
PLAN_METAFIELD_MAX = 4000  # multi-line text: room for every shipment's reason of a split order


def triage_tags(decision: OrderDecision) -> list[str]:
    """The tags that show the decision in the store's order list."""
    tags = [f"{TAG_PREFIX}{decision.outcome.value}"]
    tags += [f"{RULE_TAG_PREFIX}{rule_id}"[:SHOPIFY_TAG_MAX] for rule_id in decision.triage.fired_rule_ids]
    return tags


def _base(decision: OrderDecision, order: Order, shop: str) -> dict:
    return {
        "shop_domain": shop, "order_id": order.id, "order_name": order.name, "order_version": decision.fingerprint,
        "confidence": decision.confidence, "trace_id": decision.trace_id,
        "rules_version": decision.triage.rules_version,
        "model_versions": f"fraud={decision.fraud.model_version};notes={decision.notes.engine}",
        "financial_status": order.financial_status.value,
        "why": "; ".join(reason for _, reason in decision.triage.reasons) or "no rule fired",
    }


def _exception_text(decision: OrderDecision, order: Order) -> str:
    reasons = "; ".join(reason for _, reason in decision.triage.reasons)
    # No trace id here: the same alert about the same order must hash the same in every run.
    return f"Order {order.name} cannot proceed: {reasons}."


def decision_actions(decision: OrderDecision, order: Order, shop: str, plan_summary: str | None) -> list[WriteAction]:
    """Every write this decision asks for, in the order they should happen."""
    if decision.state in (OrderState.CANCELLED, OrderState.FULFILLED):
        return []  # the store cancelled or shipped it: nothing to tell the store or the team
    base = _base(decision, order, shop)
    actions = [
        WriteAction(**base, workflow=Workflow.TRIAGE_TAGS, kind=ActionKind.ADD_TAGS,
                    payload={"tags": triage_tags(decision)}),
        WriteAction(**base, workflow=Workflow.TRIAGE_TAGS, kind=ActionKind.SET_METAFIELDS, payload={
            "namespace": METAFIELD_NAMESPACE,
            "metafields": {
                "triage": ["json", json.dumps({
                    "outcome": decision.outcome.value, "rules": list(decision.triage.fired_rule_ids),
                    "rules_version": decision.triage.rules_version, "confidence": round(decision.confidence, 4)},
                    sort_keys=True)],
                "fraud": ["json", json.dumps({
                    "score": round(decision.fraud.score, 4), "model_version": decision.fraud.model_version,
                    "reasons": list(decision.fraud.reasons)}, sort_keys=True)],
                "trace_id": ["single_line_text_field", decision.trace_id],
            }}),
    ]
    for hold in decision.holds.place:
        reason_notes = dict(decision.triage.reasons).get(hold.rule_id, hold.rule_id)
        if hold.is_fraud_hold and decision.fraud.reasons:  # the reviewer sees why, on the hold itself
            reason_notes = f"{reason_notes}: {'; '.join(decision.fraud.reasons)}"
        actions.append(WriteAction(**base, workflow=Workflow.HOLDS, kind=ActionKind.PLACE_HOLD, payload={
            "handle": hold.handle, "reason": hold.reason.value, "rule_id": hold.rule_id,
            "reason_notes": reason_notes}))
    for hold in decision.holds.release:
        actions.append(WriteAction(**base, workflow=Workflow.HOLDS, kind=ActionKind.RELEASE_HOLD, payload={
            "handle": hold.handle, "reason": hold.reason.value, "rule_id": hold.rule_id}))
    if plan_summary:
        actions.append(WriteAction(**base, workflow=Workflow.ROUTING, kind=ActionKind.SET_METAFIELDS,
                                   payload=_plan_payload(plan_summary)))
    if decision.outcome is TriageOutcome.EXCEPTION and any(c.to_state.value == "exception"
                                                           for c in decision.state_changes):
        text = _exception_text(decision, order)
        rule_ids = list(decision.triage.fired_rule_ids)
        actions += [
            WriteAction(**base, workflow=Workflow.NOTIFICATIONS, kind=ActionKind.CHAT_ALERT,
                        payload={"text": text, "rules": rule_ids}),
            WriteAction(**base, workflow=Workflow.NOTIFICATIONS, kind=ActionKind.HELPDESK_TICKET, payload={
                "subject": f"Order {order.name} needs attention: {decision.triage.reasons[0][0]}",
                "body": text, "tags": ["oms", "exception", *rule_ids], "external_id": f"{shop}/{order.id}"}),
        ]
        note_line = f"{OMS_NOTE_MARKER} exception: {'; '.join(r for _, r in decision.triage.reasons)}"
        # Only our line: the executor reads the note at send time and puts the line under the customer's
        # part as the store has it then (no customer text in the audit, no edit of theirs overwritten).
        actions.append(WriteAction(**base, workflow=Workflow.NOTIFICATIONS, kind=ActionKind.UPDATE_NOTE,
                                   payload={"line": note_line}))
    return actions


def _plan_payload(summary: str) -> dict:
    return {"namespace": METAFIELD_NAMESPACE,
            "metafields": {"plan": ["multi_line_text_field", summary[:PLAN_METAFIELD_MAX]]}}


def plan_action(context: WriteAction, summary: str) -> WriteAction:
    """The ``oms.plan`` metafield write of an order's fulfillment plan (one line per shipment: where from,
    which service, cost, days and why; backordered units), made after the decision by the planning step.

    ``context`` is another write of the same decision (its triage tags): the plan write carries the same
    order version, trace id, confidence and versions, so policy and the ledger treat it as that decision's.
    """
    return context.model_copy(update={
        "workflow": Workflow.ROUTING, "kind": ActionKind.SET_METAFIELDS, "payload": _plan_payload(summary),
        "why": f"fulfillment plan: {summary.splitlines()[0] if summary else ''}"[:500]})
