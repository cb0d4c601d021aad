"""The gateway's policy, audit, ledger and rollout modes, against a recording executor and the warehouse
(DuckDB and PostgreSQL)."""

from __future__ import annotations

import pytest

from oms_pipeline.domain.writeback.actions import ActionKind, RolloutMode, Workflow
from oms_pipeline.domain.writeback.policy import CircuitBreaker
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.fakes import RecordingExecutor
from oms_pipeline_tests.support.gateway import AUTO, action, gateway


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse(request, tmp_path) -> Warehouse:
    """The gateway's tables on both warehouse backends (their bulk paths differ)."""
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    wh = Warehouse(url)
    wh.migrate()
    yield wh
    wh.dispose()


def outcomes(warehouse: Warehouse) -> list[tuple[str, str, str]]:
    audit = warehouse.writeback.audit()
    return list(zip(audit["order_id"], audit["action"], audit["outcome"], strict=True))


def test_written_once_then_never_again(warehouse):
    executor = RecordingExecutor()
    batch = [action("1"), action("2"), action("1")]  # the same intent twice in one run
    report = gateway(warehouse, executor).run(batch, "run-1", batch_orders=2)
    assert [a.order_id for a in executor.sent] == ["1", "2"]
    assert report.outcomes == {"written": 2, "duplicate": 1}
    again = gateway(warehouse, executor).run(batch, "run-2", batch_orders=2)
    assert again.written == 0 and again.outcomes == {"duplicate": 3}
    assert len(executor.sent) == 2
    assert warehouse.writeback.ledger_counts() == {"done": 2}


def test_audit_is_written_before_the_call(warehouse):
    seen_at_call: list[list] = []

    class Peeking(RecordingExecutor):
        def execute(self, a):
            seen_at_call.append(outcomes(warehouse))
            return super().execute(a)

    gateway(warehouse, Peeking()).run([action("7")], "run-1", batch_orders=1)
    assert seen_at_call == [[("7", "add_tags", "started")]]
    assert outcomes(warehouse) == [("7", "add_tags", "written")]
    row = warehouse.writeback.audit().iloc[0]
    assert row["mode"] == "auto" and row["trace_id"] == "trace-7" and len(row["payload_sha256"]) == 64


def test_failure_stays_pending_and_the_next_run_sends_it(warehouse):
    executor = RecordingExecutor(fail_times=1)
    first = gateway(warehouse, executor).run([action("1")], "run-1", batch_orders=1)
    assert first.outcomes == {"failed": 1} and first.failures[0]["error"].startswith("ConnectionError")
    assert warehouse.writeback.ledger_counts() == {"pending": 1}
    second = gateway(warehouse, executor).run([action("1")], "run-2", batch_orders=1)
    assert second.written == 1 and len(executor.sent) == 1
    ledger = warehouse.writeback.ledger_frame()
    assert ledger["status"].tolist() == ["done"] and ledger["attempts"].tolist() == [2]


def test_rejection_by_the_store_is_final_and_recorded(warehouse):
    executor = RecordingExecutor(reject={ActionKind.ADD_TAGS})
    report = gateway(warehouse, executor).run([action("1")], "run-1", batch_orders=1)
    assert report.outcomes == {"rejected": 1}
    assert warehouse.writeback.audit()["detail"].tolist() == ["tags: Tag is invalid"]
    assert gateway(warehouse, executor).run([action("1")], "run-2", batch_orders=1).outcomes == {"duplicate": 1}


@pytest.mark.parametrize(("kind", "payload", "extra", "rule"), [
    (ActionKind.CANCEL_ORDER, {"reason": "customer"}, {}, "no-automatic-cancel-or-refund-of-paid-order"),
    (ActionKind.REFUND_ORDER, {"amount": "10.00"}, {}, "no-automatic-cancel-or-refund-of-paid-order"),
    (ActionKind.CANCEL_ORDER, {"reason": "customer"}, {"financial_status": "pending"}, "cancel-and-refund-in-store"),
    (ActionKind.RELEASE_HOLD, {"handle": "oms-high-fraud-risk", "reason": "HIGH_RISK_OF_FRAUD"}, {},
     "fraud-hold-needs-operator"),
])  # fmt: skip
def test_each_policy_rule_refuses_its_action_on_record(warehouse, kind, payload, extra, rule):
    executor = RecordingExecutor()
    workflow = Workflow.HOLDS if kind is ActionKind.RELEASE_HOLD else Workflow.NOTIFICATIONS
    params = {"financial_status": "paid", **extra}
    a = action("9", kind, workflow, payload).model_copy(update=params)
    report = gateway(warehouse, executor).run([a], "run-1", batch_orders=1)
    assert executor.sent == [] and report.outcomes == {"refused": 1}
    audit = warehouse.writeback.audit().iloc[0]
    assert audit["outcome"] == "refused" and audit["detail"].startswith(rule)
    assert warehouse.writeback.ledger_counts() == {}


def test_an_operator_may_release_a_fraud_hold(warehouse):
    executor = RecordingExecutor()
    a = action("9", ActionKind.RELEASE_HOLD, Workflow.HOLDS, {"handle": "h", "reason": "HIGH_RISK_OF_FRAUD"},
               actor="Dana", by_operator=True)
    report = gateway(warehouse, executor, modes=dict.fromkeys(Workflow, RolloutMode.SHADOW)).run([a], "op", 1)
    assert report.written == 1 and executor.sent == [a]
    assert warehouse.writeback.audit().iloc[0][["mode", "actor"]].tolist() == ["operator", "Dana"]


def test_shadow_mode_writes_nothing(warehouse):
    executor = RecordingExecutor()
    report = gateway(warehouse, executor, modes={}).run([action("1"), action("2")], "run-1", batch_orders=2)
    assert executor.sent == [] and report.outcomes == {"shadow": 2}
    assert warehouse.writeback.ledger_counts() == {} and warehouse.writeback.pending_reviews() == []


def test_assisted_mode_writes_only_after_approval(warehouse):
    from oms_pipeline.services.operators import approve_review

    executor = RecordingExecutor()
    assisted = dict.fromkeys(Workflow, RolloutMode.ASSISTED)
    report = gateway(warehouse, executor, modes=assisted).run([action("1")], "run-1", batch_orders=1)
    assert executor.sent == [] and report.outcomes == {"queued_for_review": 1}
    [item] = warehouse.writeback.pending_reviews()
    result = approve_review(warehouse, gateway(warehouse, executor, modes=assisted), item.review_id, by="Dana")
    assert result["outcomes"] == {"written": 1} and len(executor.sent) == 1
    assert warehouse.writeback.pending_reviews() == []
    # Approving again, or the decision's next run, sends nothing more.
    assert gateway(warehouse, executor, modes=AUTO).run([action("1")], "run-2", 1).outcomes == {"duplicate": 1}


def test_auto_mode_queues_what_falls_below_the_confidence_threshold(warehouse):
    executor = RecordingExecutor()
    report = gateway(warehouse, executor, confidence_threshold=0.8).run(
        [action("1", confidence=0.5), action("2", confidence=0.9)], "run-1", batch_orders=2)
    assert report.outcomes == {"queued_for_review": 1, "written": 1}
    assert [a.order_id for a in executor.sent] == ["2"]
    assert [i.order_id for i in warehouse.writeback.pending_reviews()] == ["1"]
    # Just under the threshold is compared unrounded and said without contradicting itself.
    just_under = gateway(warehouse, executor, confidence_threshold=0.8).run([action("3", confidence=0.7996)],
                                                                           "run-2", batch_orders=1)
    assert just_under.outcomes == {"queued_for_review": 1}
    assert "confidence 0.79 is below the threshold 0.80" in warehouse.writeback.audit(order_id="3")["detail"].iloc[0]


def test_circuit_breaker_stops_a_run_that_would_hold_too_many_orders(warehouse):
    executor = RecordingExecutor()
    holds = [action(str(n), ActionKind.PLACE_HOLD, Workflow.HOLDS,
                    {"handle": "oms-x", "reason": "OTHER", "rule_id": "x", "reason_notes": "x"}) for n in range(30)]
    tags = [action(str(n)) for n in range(40)]
    report = gateway(warehouse, executor, breaker=CircuitBreaker(max_share=0.5, min_orders=20)).run(
        holds + tags, "run-1", batch_orders=40)
    assert "30 of 40 orders" in report.circuit_open[0] and report.outcomes == {"circuit_open": 70}
    assert executor.sent == []
    assert set(warehouse.writeback.audit()["outcome"]) == {"circuit_open"}
    # Below the share, the same kind of run goes through.
    gateway(warehouse, executor, breaker=CircuitBreaker(max_share=0.8, min_orders=20)).run(
        holds + tags, "run-2", batch_orders=40)
    assert len(executor.sent) == 70
