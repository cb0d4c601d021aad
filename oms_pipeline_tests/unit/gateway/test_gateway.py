"""An intended write's idempotency key: what it depends on."""

from __future__ import annotations

from oms_pipeline.domain.writeback.actions import ActionKind, Workflow
from oms_pipeline_tests.support.gateway import action


def test_idempotency_key_depends_on_version_payload_and_action():
    base = action("1")
    assert base.idempotency_key == action("1").idempotency_key
    assert base.idempotency_key != base.model_copy(update={"order_version": "v2"}).idempotency_key
    assert base.idempotency_key != action("1", payload={"tags": ["oms:flagged"]}).idempotency_key
    assert base.idempotency_key != action("2").idempotency_key
    alert = action("1", ActionKind.CHAT_ALERT, Workflow.NOTIFICATIONS, {"text": "Order #1 cannot proceed"})
    # An alert is about the order: a new version of the same order does not alert again.
    assert alert.idempotency_key == alert.model_copy(update={"order_version": "v2"}).idempotency_key
