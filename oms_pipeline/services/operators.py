"""What operators do by hand: release an order's holds, approve or reject a queued suggestion.

Each action and the write it causes are recorded together (the write in the outbox, open), then the
write is sent at once; if its system cannot be reached, the next run's writeback sends it. Every
action is audited as the operator's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from oms_pipeline.domain.decisions import release_by_operator
from oms_pipeline.domain.decisions.states import OrderState
from oms_pipeline.domain.writeback.actions import ActionKind, Workflow, WriteAction
from oms_pipeline.gateway.gateway import WritebackGateway
from oms_pipeline.services.writeback import send_operator_actions
from oms_pipeline.storage.warehouse import Warehouse


class OperatorError(ValueError):
    """An operator command that cannot be carried out (unknown order or review, nothing to release)."""


def release_holds(wh: Warehouse, gateway: WritebackGateway, shop: str, order_ref: str, by: str, why: str,
                  now: datetime, handle: str | None = None) -> dict[str, Any]:
    """An operator releases an order's holds (all, or the one with ``handle``); the store is told
    through the gateway and the order moves to ready when no hold is left."""
    store = wh.decisions
    order_id = store.find_order(shop, order_ref)
    if order_id is None:
        raise OperatorError(f"order {order_ref}: not found in {shop}")
    active = store.active_holds(shop, [order_id]).get(order_id, ())
    chosen = [h for h in active if handle is None or h.handle == handle]
    if not chosen:
        raise OperatorError(f"order {order_ref}: no active hold{f' with handle {handle}' if handle else ''}")
    trace_id = uuid4().hex
    run_id = f"operator-{trace_id[:12]}"
    released, actions = [], []
    for hold in chosen:
        record = release_by_operator(hold, by, why, now)
        action = WriteAction(
            shop_domain=shop, order_id=order_id, order_version=f"hold:{hold.handle}@{hold.placed_at.isoformat()}",
            workflow=Workflow.HOLDS, kind=ActionKind.RELEASE_HOLD, actor=by, by_operator=True, trace_id=trace_id,
            payload={"handle": hold.handle, "reason": hold.reason.value, "rule_id": hold.rule_id}, why=why)
        left = len(active) - len(released) - 1
        state = store.state_of(shop, order_id)
        new_state = OrderState.READY if left == 0 and state is OrderState.ON_HOLD else None
        # The release and the write that tells the store are recorded together; the write is sent now,
        # and if the store cannot be reached the next run's writeback sends it.
        store.record_release(shop, record, new_state, trace_id, intents=[action], run_id=run_id, now=now)
        if hold.is_fraud_hold:  # an operator cleared a fraud hold: a "legitimate" label for the fraud model
            wh.fraud.add_review_outcome(shop, order_id, "legitimate", by, now, source="hold release", note=why)
        released.append(hold.handle)
        actions.append(action)
    report = send_operator_actions(wh, gateway, run_id, actions)
    return {"order_id": order_id, "released": released, "by": by, "outcomes": dict(report.outcomes),
            "state": (store.state_of(shop, order_id) or OrderState.RECEIVED).value, "trace_id": trace_id}


def approve_review(wh: Warehouse, gateway: WritebackGateway, review_id: str, by: str,
                   note: str = "") -> dict[str, Any]:
    """An operator approves a queued suggestion: the gateway carries it out as the operator's action."""
    item = wh.writeback.review(review_id)
    if item is None:
        raise OperatorError(f"review {review_id}: not found")
    if item.status != "pending":
        raise OperatorError(f"review {review_id}: already {item.status} by {item.decided_by}")
    action = WriteAction.model_validate_json(item.action_json).model_copy(update={"actor": by, "by_operator": True})
    run_id = f"review-{review_id}-{uuid4().hex[:8]}"
    # The approval and the write it asks for are recorded together; the write is sent now, and if its
    # system cannot be reached the next run's writeback sends it.
    if not wh.writeback.decide_review(review_id, "approved", by, note, intents=[action], run_id=run_id):
        raise OperatorError(f"review {review_id}: decided meanwhile by someone else")
    report = send_operator_actions(wh, gateway, run_id, [action])
    return {"review_id": review_id, "order_id": item.order_id, "action": item.action, "by": by,
            "outcomes": dict(report.outcomes)}


def reject_review(wh: Warehouse, review_id: str, by: str, note: str) -> dict[str, Any]:
    """An operator rejects a queued suggestion: nothing is written."""
    item = wh.writeback.review(review_id)
    if item is None:
        raise OperatorError(f"review {review_id}: not found")
    if item.status != "pending":
        raise OperatorError(f"review {review_id}: already {item.status} by {item.decided_by}")
    if not wh.writeback.decide_review(review_id, "rejected", by, note):
        raise OperatorError(f"review {review_id}: decided meanwhile by someone else")
    return {"review_id": review_id, "order_id": item.order_id, "action": item.action, "status": "rejected"}


def pending_review_rows(wh: Warehouse, shop: str | None = None) -> Sequence[dict[str, Any]]:
    """The review queue as rows for a table."""
    return [{"review_id": i.review_id, "order_id": i.order_id, "workflow": i.workflow, "action": i.action,
             "confidence": round(i.confidence, 2), "why": i.why,
             "payload": json.loads(i.action_json).get("payload", {})}
            for i in wh.writeback.pending_reviews(shop)]
