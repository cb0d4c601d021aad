"""End to end on Dagster: the order flow (poll, validate, decide, write back) against the sandbox."""

from __future__ import annotations

import json

import pytest
from dagster import instance_for_test

from oms_pipeline.cli.jobs import run_order_flow
from oms_pipeline.domain.routing.batch import plan_batch
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.services import planning
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.order_flow import AUTO
from oms_pipeline_tests.support.order_flow import settings as _settings
from oms_pipeline_tests.support.order_flow import store as _store

pytestmark = pytest.mark.e2e


def _pii_of(store: SandboxStore) -> set[str]:
    """Every customer name, email, phone and street line in the store's orders."""
    values: set[str] = set()
    for record in store.records():
        order = record.order
        customer = order.get("customer") or {}
        values |= {order.get("email"), order.get("phone"), customer.get("email"), customer.get("phone"),
                   customer.get("first_name"), customer.get("last_name")}
        for key in ("shipping_address", "billing_address"):
            address = order.get(key) or {}
            values |= {address.get("address1"), address.get("phone"), address.get("name")}
    return {v for v in values if isinstance(v, str) and len(v) >= 4}


def test_order_flow_writes_each_decision_once_and_tells_the_team(tmp_path):
    store = _store(orders=50)
    with SandboxServer(store, faults=0.2, timeout_fault_s=0.3, restore_rate=20_000.0, seed=3) as sandbox, \
            instance_for_test() as instance:
        settings = _settings(sandbox, tmp_path, **AUTO)
        first = run_order_flow(settings, instance)
        assert first["success"], first
        assert first["checks"] == {"orders_pass_expectations": True, "decisions_pass_expectations": True,
                                   "writeback_outbox_drained": True}
        assert first["earlier_writes_finished"] == 0 and first["writes_left_open"] == 0
        assert first["writes"].get("failed", 0) == 0 and first["written"] > first["decided"]
        wh = Warehouse(settings.resolved_warehouse_url)
        decisions = wh.decisions.decisions_of_run(first["run_id"])
        # What the store shows agrees with what was decided; decisions below the confidence
        # threshold (a note the note engine is unsure of) wait in the review queue instead.
        queued = {item.order_id for item in wh.writeback.pending_reviews()}
        confident = decisions[decisions["confidence"] >= settings.confidence_threshold]
        unsure = decisions[(decisions["confidence"] < settings.confidence_threshold)
                           & ~decisions["state"].isin(["cancelled", "fulfilled"])]
        assert set(unsure["order_id"]) == queued
        for row in decisions.itertuples():
            state = store.writeback_state(int(row.order_id))
            if row.state in ("cancelled", "fulfilled"):  # settled in the store: nothing to write
                continue
            oms_tags = {t for t in state["tags"] if t.startswith("oms")}
            if row.order_id in queued:
                assert oms_tags == set() and state["holds"] == []
                continue
            assert f"oms:{row.outcome}" in oms_tags, row.order_id
            held = {h["handle"] for h in state["holds"]}
            for rule_id, _reason in json.loads(row.hold_reasons):
                assert f"oms-{rule_id}" in held, wh.writeback.audit(order_id=row.order_id)[
                    ["action", "outcome", "detail"]].to_dict("records")[2:]
        exceptions = confident[(confident["outcome"] == "exception") & (confident["state"] == "exception")]
        assert len(sandbox.notifications.slack_messages) == len(exceptions) > 0
        assert len(sandbox.notifications.tickets) == len(exceptions)
        # The ledger and the store agree: every key done, nothing pending, nothing lost.
        assert set(wh.writeback.ledger_counts()) == {"done"}

        # Our own writes bump updated_at; the next poll sees those versions and decides nothing again.
        second = run_order_flow(settings, instance)
        assert second["success"] and second["decided"] == 0 and second["written"] == 0
        assert len(sandbox.notifications.slack_messages) == len(exceptions)

        # Nothing personal left the process through alerts, tickets, the audit log or Dagster's event log.
        pii = _pii_of(store)
        logs = "\n".join(str(e.dagster_event or e.user_message) for e in instance.all_logs(first["run_id"]))
        audit = wh.writeback.audit().to_json()
        alerts = json.dumps([sandbox.notifications.slack_messages, sandbox.notifications.tickets], default=str)
        for text in (logs, audit, alerts):
            leaked = [v for v in pii if v in text]
            assert leaked == []


def test_shadow_mode_writes_nothing_to_the_store(tmp_path):
    store = _store(seed=6, orders=40)
    with SandboxServer(store, restore_rate=20_000.0) as sandbox, instance_for_test() as instance:
        settings = _settings(sandbox, tmp_path)  # a new install: every workflow in shadow mode
        result = run_order_flow(settings, instance)
        assert result["success"] and result["decided"] > 0 and result["written"] == 0
        assert set(result["writes"]) == {"shadow"}
        assert store.stats.get("mutations", 0) == 0
        assert sandbox.notifications.slack_messages == [] and sandbox.notifications.tickets == []


def test_failed_quality_gate_blocks_the_writeback(tmp_path, monkeypatch):
    def overshipping_planner(instance, time_limit_s):
        # A planner bug: one shipment carries more units than were ordered and than the location has.
        plan, greedy, figures = plan_batch(instance, time_limit_s)
        shipment = plan.shipments[0]
        line = shipment.lines[0].model_copy(update={"qty": shipment.lines[0].qty + 10_000})
        shipments = [shipment.model_copy(update={"lines": [line, *shipment.lines[1:]]}), *plan.shipments[1:]]
        return plan.model_copy(update={"shipments": shipments}), greedy, figures

    monkeypatch.setattr(planning, "plan_batch", overshipping_planner)
    store = _store(seed=7, orders=30)
    with SandboxServer(store, restore_rate=20_000.0) as sandbox, instance_for_test() as instance:
        result = run_order_flow(_settings(sandbox, tmp_path, **AUTO), instance)
        assert not result["success"]
        assert result["checks"]["decisions_pass_expectations"] is False
        assert not result["writeback_ran"] and store.stats.get("mutations", 0) == 0
        evaluation = next(e for e in instance.get_records_for_run(result["run_id"]).records
                          if e.event_log_entry.dagster_event
                          and e.event_log_entry.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
                          and e.event_log_entry.dagster_event.event_specific_data.check_name
                          == "decisions_pass_expectations")
        failed = evaluation.event_log_entry.dagster_event.event_specific_data.metadata["failed_expectations"].value
        assert {f["detail"].split(":")[0] for f in failed} >= {
            "no plan ships more units of a SKU than the order asks for",
            "no plan draws more units from a location than it has in stock"}
