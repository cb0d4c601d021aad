"""Decisions over the warehouse: who gets decided, what is stored, holds rechecked and released."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta

import pytest

from oms_pipeline.domain.decisions import load_triage_rules
from oms_pipeline.domain.decisions.states import OrderState
from oms_pipeline.domain.notes.local import LocalNoteEngine
from oms_pipeline.domain.writeback.actions import RolloutMode, Workflow
from oms_pipeline.quality.decision_expectations import validate_decisions
from oms_pipeline.sandbox.network import sandbox_network
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.services.decisions import DecisionPolicy, decide_pending
from oms_pipeline.services.operators import OperatorError, release_holds
from oms_pipeline.services.writeback import STORE_WORKFLOWS, drain_outbox
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.fakes import RecordingExecutor
from oms_pipeline_tests.support.gateway import gateway
from oms_pipeline_tests.support.landing import land

SHOP = "oms-sandbox.myshopify.com"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.fixture
def landed(tmp_path) -> tuple[Warehouse, SandboxStore]:
    wh = Warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    wh.migrate()
    store = SandboxStore(seed=3, orders=120, rate_per_min=0.0, malformed_rate=0.0,
                         clock=lambda: datetime(2026, 11, 20, tzinfo=UTC))
    land(wh, [r.rest() for r in store.records()])
    return wh, store


POLICY = DecisionPolicy(rules=load_triage_rules(), network=sandbox_network())
NOTES = functools.cache(LocalNoteEngine.train)  # the notes step's model, trained once per module


def test_every_order_is_decided_once_with_a_recorded_path(landed):
    wh, _store = landed
    summary = decide_pending(wh, SHOP, POLICY, "run-1", NOW, notes=NOTES())
    assert summary.decided == 120 and sum(summary.outcomes.values()) == 120
    decisions = wh.decisions.decisions_of_run("run-1")
    assert decisions["order_id"].is_unique and set(decisions["rules_version"]) == {POLICY.rules.version}
    assert set(decisions["fraud_model_version"]) == {"rules-v1"}
    # A new order walks received -> validated -> enriched -> triaged -> its result, each step recorded.
    some = decisions[decisions["state"] == "ready"].iloc[0]
    history = wh.decisions.history(SHOP, some["order_id"])
    assert list(zip(history["from_state"], history["to_state"], strict=True)) == [
        ("received", "validated"), ("validated", "enriched"), ("enriched", "triaged"), ("triaged", "ready")]
    assert set(history["trace_id"]) == {some["trace_id"]}
    # Flagged orders are on hold with one hold per hold-placing rule; exceptions carry their reasons.
    flagged = decisions[decisions["outcome"] == "flagged"]
    assert len(flagged) and set(flagged["state"]) <= {"on_hold", "cancelled"}
    exceptions = decisions[decisions["outcome"] == "exception"]
    assert all(json.loads(r) for r in exceptions["reasons"])
    assert validate_decisions(decisions, wh.decisions.shipments_of_run("run-1")).success
    # Nothing changed: nothing to decide again.
    assert decide_pending(wh, SHOP, POLICY, "run-2", NOW, notes=NOTES()).decided == 0


def test_our_own_tags_coming_back_do_not_cause_a_new_decision(landed):
    wh, store = landed
    decide_pending(wh, SHOP, POLICY, "run-1", NOW, notes=NOTES())
    record = store.records()[0]
    payload = record.rest()
    payload["tags"] = (payload.get("tags") or "") + ", oms:standard"
    payload["updated_at"] = "2026-11-24T13:00:00+00:00"
    land(wh, [payload], "ingest-2")
    summary = decide_pending(wh, SHOP, POLICY, "run-2", NOW, notes=NOTES())
    assert (summary.decided, summary.unchanged) == (0, 1)
    # ... but a real change (a new note) does.
    payload["note"] = "Please cancel this order"
    payload["updated_at"] = "2026-11-24T14:00:00+00:00"
    land(wh, [payload], "ingest-3")
    summary = decide_pending(wh, SHOP, POLICY, "run-3", NOW, notes=NOTES())
    assert summary.decided == 1 and summary.outcomes == {"exception": 1} or summary.states.get("cancelled")


def test_quality_gate_refuses_a_plan_beyond_stock(landed):
    wh, _store = landed
    decide_pending(wh, SHOP, POLICY, "run-1", NOW, notes=NOTES())
    decisions = wh.decisions.decisions_of_run("run-1")
    shipments = wh.decisions.shipments_of_run("run-1")
    assert len(shipments)
    broken = shipments.copy()
    broken.loc[broken.index[0], "quantity"] = int(broken.iloc[0]["stock_at_location"]) + 1
    report = validate_decisions(decisions, broken)
    failed = {f.detail.split(":")[0] for f in report.failures}
    assert not report.success and any("in stock" in f for f in failed) and any("asks for" in f for f in failed)
    broken_decisions = decisions.copy()
    broken_decisions.loc[broken_decisions.index[0], ["fraud_score", "outcome", "reasons"]] = [1.5, "exception", "[]"]
    report = validate_decisions(broken_decisions, shipments)
    assert {f.column for f in report.failures} == {"fraud_score", "reasons"}


def test_fraud_hold_stays_until_an_operator_releases_it(landed):
    wh, store = landed
    # A big, first-time, cross-border order with a gift card scores high on the stand-in fraud rules.
    payload = store.records()[5].rest()
    payload["billing_address"] = dict(payload["shipping_address"], country_code="NG", country="Nigeria")
    payload["customer"]["orders_count"] = 1
    payload["line_items"][0]["quantity"] = 12
    payload["updated_at"] = "2026-11-24T10:00:00+00:00"
    payload["total_price"] = "1500.00"
    land(wh, [payload], "ingest-2")
    decide_pending(wh, SHOP, POLICY, "run-1", NOW, notes=NOTES())
    order_id = str(payload["id"])
    holds = wh.decisions.active_holds(SHOP, [order_id])[order_id]
    assert "oms-high-fraud-risk" in {h.handle for h in holds}
    # Days later the payment is captured (a new version); the recheck may release other holds,
    # never the fraud hold.
    payload["financial_status"] = "paid"
    payload["total_price"] = "20.00"
    payload["line_items"][0]["quantity"] = 1
    payload["updated_at"] = "2026-11-27T10:00:00+00:00"
    land(wh, [payload], "ingest-3")
    decide_pending(wh, SHOP, POLICY, "run-2", NOW + timedelta(days=3), notes=NOTES())
    holds = wh.decisions.active_holds(SHOP, [order_id])[order_id]
    assert [h.handle for h in holds if h.is_fraud_hold] == ["oms-high-fraud-risk"]
    assert wh.decisions.state_of(SHOP, order_id) is OrderState.ON_HOLD
    executor = RecordingExecutor()
    gw = gateway(wh, executor, modes=dict.fromkeys(Workflow, RolloutMode.AUTO))
    with pytest.raises(OperatorError, match="no active hold"):
        release_holds(wh, gw, SHOP, order_id, "Dana", "called the customer", NOW, handle="oms-nope")
    result = release_holds(wh, gw, SHOP, order_id, "Dana", "called the customer, card holder confirmed",
                           NOW + timedelta(days=3, hours=1))
    assert "oms-high-fraud-risk" in result["released"] and result["outcomes"].get("written")
    assert wh.decisions.active_holds(SHOP, [order_id]) == {}
    assert wh.decisions.state_of(SHOP, order_id) is OrderState.READY
    history = wh.decisions.history(SHOP, order_id)
    assert history.iloc[-1][["from_state", "to_state", "actor"]].tolist() == ["on_hold", "ready", "Dana"]
    audit = wh.writeback.audit(order_id=order_id)
    assert audit.iloc[-1][["action", "mode", "actor", "outcome"]].tolist() == [
        "release_hold", "operator", "Dana", "written"]


def test_writeback_sends_each_intent_once_across_reruns(landed):
    wh, _store = landed
    decide_pending(wh, SHOP, POLICY, "run-1", NOW, notes=NOTES())
    executor = RecordingExecutor()
    auto = dict.fromkeys(Workflow, RolloutMode.AUTO)
    first = drain_outbox(wh, gateway(wh, executor, modes=auto), SHOP, "run-1", STORE_WORKFLOWS).report
    sent = len(executor.sent)
    assert first.written == sent > 120
    again = drain_outbox(wh, gateway(wh, executor, modes=auto), SHOP, "run-1", STORE_WORKFLOWS).report
    assert again.written == 0 and len(executor.sent) == sent
    kinds = {a.kind.value for a in executor.sent}
    assert {"add_tags", "set_metafields", "place_hold"} <= kinds


def test_a_newer_decision_supersedes_pending_suggestions(landed):
    wh, store = landed
    decide_pending(wh, SHOP, POLICY, "run-1", NOW, notes=NOTES())
    assisted = dict.fromkeys(Workflow, RolloutMode.ASSISTED)
    drain_outbox(wh, gateway(wh, RecordingExecutor(), modes=assisted), SHOP, "run-1", STORE_WORKFLOWS)
    payload = store.records()[0].rest()
    order_id = str(payload["id"])
    assert any(i.order_id == order_id for i in wh.writeback.pending_reviews())
    payload["note"] = "please ship everything together"
    payload["updated_at"] = "2026-11-24T15:00:00+00:00"
    land(wh, [payload], "ingest-2")
    summary = decide_pending(wh, SHOP, POLICY, "run-2", NOW, notes=NOTES())
    assert summary.reviews_superseded > 0
    assert not any(i.order_id == order_id for i in wh.writeback.pending_reviews())
