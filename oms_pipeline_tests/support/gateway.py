"""The writeback gateway as its tests build it: an intended write, and a gateway on a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

from oms_pipeline.domain.writeback.actions import ActionKind, RolloutMode, Workflow, WriteAction
from oms_pipeline.gateway.gateway import WritebackGateway
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.fakes import RecordingExecutor

AUTO = dict.fromkeys(Workflow, RolloutMode.AUTO)


def action(order_id: str = "1001", kind: ActionKind = ActionKind.ADD_TAGS, workflow: Workflow = Workflow.TRIAGE_TAGS,
           payload: dict | None = None, **extra) -> WriteAction:
    """One intended write (by default: tag order 1001 ``oms:standard``)."""
    return WriteAction(shop_domain="s.myshopify.com", order_id=order_id, order_name=f"#{order_id}",
                       order_version="v1", workflow=workflow, kind=kind,
                       payload=payload if payload is not None else {"tags": ["oms:standard"]},
                       trace_id=f"trace-{order_id}", financial_status="paid", **extra)


def gateway(warehouse: Warehouse, executor: RecordingExecutor, modes=AUTO, **kw) -> WritebackGateway:
    """The gateway over ``warehouse``'s ledger and audit, every workflow in ``auto`` unless ``modes`` says."""
    return WritebackGateway(warehouse.writeback, executor, modes, clock=lambda: datetime(2026, 11, 24, tzinfo=UTC),
                            **kw)
