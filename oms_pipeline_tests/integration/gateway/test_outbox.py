"""The outbox: intents recorded with what asks for them, finished by whichever run comes next, superseded
when a newer decision restates them, blocked when their run's gate fails; and the sends that cannot be
repeated blindly (a Slack message whose answer was lost) go to an operator."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from oms_pipeline.domain.decisions import load_triage_rules
from oms_pipeline.domain.ingestion import OrderEvent, normalize_events
from oms_pipeline.domain.notes.local import LocalNoteEngine
from oms_pipeline.domain.writeback.actions import ActionKind, RolloutMode, Workflow, WriteAction
from oms_pipeline.domain.writeback.policy import CircuitBreaker
from oms_pipeline.gateway.gateway import ExecutionResult, WritebackGateway
from oms_pipeline.sandbox.network import sandbox_network
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.services.decisions import DecisionPolicy, triage_pending
from oms_pipeline.services.notes import parse_pending_notes
from oms_pipeline.services.operators import approve_review
from oms_pipeline.services.writeback import STORE_WORKFLOWS, drain_outbox
from oms_pipeline.storage import schema
from oms_pipeline.storage.outbox import AWAITING_GATE, OPEN
from oms_pipeline.storage.warehouse import MIGRATIONS, Warehouse
from oms_pipeline_tests.support.fakes import RecordingExecutor

SHOP = "oms-sandbox.myshopify.com"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
POLICY = DecisionPolicy(rules=load_triage_rules(), network=sandbox_network())
NOTES = functools.cache(LocalNoteEngine.train)  # the notes step's model, trained once per module


def _triage(wh, shop, policy, run_id, now):
    """The order flow's notes step, then its triage step (which only reads the note tags stored)."""
    parse_pending_notes(wh, shop, NOTES(), now, run_id)
    return triage_pending(wh, shop, policy, run_id, now)


AUTO = dict.fromkeys(Workflow, RolloutMode.AUTO)


def gateway(wh: Warehouse, executor: RecordingExecutor, **kw) -> WritebackGateway:
    return WritebackGateway(wh.writeback, executor, AUTO, clock=lambda: NOW, **kw)


def land(wh: Warehouse, payloads: list[dict], run_id: str = "ingest") -> None:
    events = [OrderEvent.from_payload("rest", p) for p in payloads]
    wh.land_events(SHOP, events, run_id)
    wh.upsert_orders(normalize_events(events, SHOP).orders, run_id)


@pytest.fixture
def store() -> SandboxStore:
    return SandboxStore(seed=3, orders=60, rate_per_min=0.0, malformed_rate=0.0,
                        clock=lambda: datetime(2026, 11, 20, tzinfo=UTC))


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def wh(request, tmp_path, store) -> Warehouse:
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}" if request.param == "duckdb" else \
        request.getfixturevalue("postgres_schema_url")
    warehouse = Warehouse(url)
    warehouse.migrate()
    land(warehouse, [r.rest() for r in store.records()])
    yield warehouse
    warehouse.dispose()


def _rows(wh: Warehouse, **where) -> list[dict]:
    t = schema.writeback_outbox
    query = sa.select(t).where(*[t.c[k] == v for k, v in where.items()]).order_by(t.c.created_at, t.c.seq)
    with wh.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _exception_order(wh: Warehouse, run_id: str) -> str:
    decisions = wh.decisions.decisions_of_run(run_id)
    return str(decisions.loc[(decisions["state"] == "exception") & (decisions["confidence"] >= 0.8),
                             "order_id"].iloc[0])


def test_decisions_and_their_intents_are_recorded_together_and_wait_for_the_gate(wh):
    summary = _triage(wh, SHOP, POLICY, "run-1", NOW)
    rows = _rows(wh, run_id="run-1")
    assert len(rows) == sum(summary.intents.values()) > summary.decided
    assert {r["status"] for r in rows} == {AWAITING_GATE} and [r["seq"] for r in rows] == list(range(len(rows)))
    # Each row is the whole action, keyed as the ledger keys it.
    first = WriteAction.model_validate_json(rows[0]["action_json"])
    assert rows[0]["idempotency_key"] == first.idempotency_key and rows[0]["trace_id"] == first.trace_id
    decided = set(wh.decisions.decisions_of_run("run-1")["trace_id"])
    assert {r["trace_id"] for r in rows} <= decided


def test_triage_waits_for_the_notes_step_rather_than_parse_notes_itself(wh):
    alone = triage_pending(wh, SHOP, POLICY, "run-1", NOW)  # the triage step run on its own
    assert alone.decided == 0 and len(alone.waiting_for_notes) == alone.candidates > 0
    assert alone.metadata()["waiting_for_notes"] == alone.candidates and _rows(wh) == []
    after = _triage(wh, SHOP, POLICY, "run-2", NOW)  # the notes step ran: every order is decided now
    assert after.decided == alone.candidates and after.waiting_for_notes == []


def test_the_next_run_finishes_what_a_killed_run_left_oldest_first(wh):
    _triage(wh, SHOP, POLICY, "run-1", NOW)  # run-1 died here: decided, nothing sent
    executor = RecordingExecutor()
    drained = drain_outbox(wh, gateway(wh, executor), SHOP, "run-2", STORE_WORKFLOWS)
    intended = wh.outbox.of_run("run-1")
    assert drained.gates_rechecked == 1 and drained.earlier_runs == ["run-1"]
    assert drained.earlier_finished == len(intended) and drained.own == {}
    assert len(executor.sent) == drained.report.written > 0
    # Per order, the writes went out in the order the decision asked for them.
    for order_id in {a.order_id for a in intended}:
        asked = [a.idempotency_key for a in intended if a.order_id == order_id]
        sent = [a.idempotency_key for a in executor.sent if a.order_id == order_id]
        assert sent == [k for k in asked if k in sent]
    assert wh.outbox.counts().keys() <= {"closed:written", "closed:duplicate", "closed:queued_for_review"}
    assert {r["closed_by_run"] for r in _rows(wh, run_id="run-1")} == {"run-2"}
    # A third run finds nothing left.
    again = drain_outbox(wh, gateway(wh, executor), SHOP, "run-3", STORE_WORKFLOWS)
    assert again.report.outcomes == {} and again.earlier_finished == 0


def test_unreachable_writes_stay_open_and_are_reported_when_too_old(wh):
    _triage(wh, SHOP, POLICY, "run-1", NOW)
    drained = drain_outbox(wh, gateway(wh, RecordingExecutor(fail_times=10_000)), SHOP, "run-1", STORE_WORKFLOWS)
    assert drained.left_open == len(wh.outbox.of_run("run-1")) - drained.report.outcomes["queued_for_review"]
    assert drained.report.outcomes["failed"] >= 3  # then the rest is deferred, not hammered
    stale = wh.outbox.stale(NOW + timedelta(hours=2), timedelta(minutes=60), SHOP)  # recorded at NOW
    assert sum(s.count for s in stale) == drained.left_open and {s.status for s in stale} == {OPEN}
    assert wh.outbox.stale(NOW + timedelta(minutes=30), timedelta(minutes=60), SHOP) == []


def test_a_failed_gate_blocks_the_runs_writes_with_the_reason(wh):
    _triage(wh, SHOP, POLICY, "run-1", NOW)
    with wh.engine.begin() as conn:  # a scoring bug: a probability above 1
        conn.execute(sa.update(schema.order_decisions).where(schema.order_decisions.c.run_id == "run-1")
                     .values(fraud_score=1.5))
    executor = RecordingExecutor()
    drained = drain_outbox(wh, gateway(wh, executor), SHOP, "run-2", STORE_WORKFLOWS)
    assert executor.sent == [] and drained.blocked == {"run-1": len(wh.outbox.of_run("run-1"))}
    rows = _rows(wh, run_id="run-1")
    assert {(r["status"], r["outcome"]) for r in rows} == {("closed", "blocked")}
    assert "fraud_score is in [0, 1]" in rows[0]["detail"]


def test_a_newer_decision_supersedes_what_it_restates_not_holds_or_standing_exception_notices(wh, store):
    _triage(wh, SHOP, POLICY, "run-1", NOW)
    exception_id = _exception_order(wh, "run-1")
    held = wh.decisions.decisions_of_run("run-1")
    held_id = str(held.loc[held["state"] == "on_hold", "order_id"].iloc[0])
    changed = []
    for order_id, note in ((exception_id, "thanks!"), (held_id, "please gift wrap")):
        payload = store.get(int(order_id)).rest()
        payload["note"] = f"{payload.get('note') or ''} {note}".strip()
        payload["updated_at"] = "2026-11-24T15:00:00+00:00"
        changed.append(payload)
    land(wh, changed, "ingest-2")
    summary = _triage(wh, SHOP, POLICY, "run-2", NOW)
    assert summary.decided == 2 and summary.intents_superseded > 0
    closed = {(r["order_id"], r["action"]): r["outcome"] for r in _rows(wh, run_id="run-1")
              if r["order_id"] in (exception_id, held_id)}
    assert closed[(held_id, "add_tags")] == closed[(held_id, "set_metafields")] == "superseded"
    assert closed[(held_id, "place_hold")] is None  # a hold is state: it still goes, in order
    state = wh.decisions.decisions_of_run("run-2").set_index("order_id").loc[exception_id, "state"]
    if state == "exception":  # still an exception: its alert, ticket and note line still stand
        assert {closed[(exception_id, k)] for k in ("chat_alert", "helpdesk_ticket", "update_note")} == {None}
    executor = RecordingExecutor()
    drain_outbox(wh, gateway(wh, executor), SHOP, "run-3", STORE_WORKFLOWS)
    sent = [(a.order_id, a.kind, a.trace_id) for a in executor.sent if a.order_id == held_id]
    run2 = set(wh.decisions.decisions_of_run("run-2")["trace_id"])
    assert all(trace in run2 for _o, kind, trace in sent if kind in (ActionKind.ADD_TAGS,))


def test_a_write_in_flight_when_its_decision_is_superseded_is_not_left_pending(wh, store):
    _triage(wh, SHOP, POLICY, "run-1", NOW)
    tags = next(a for a in wh.outbox.of_run("run-1") if a.kind is ActionKind.ADD_TAGS)
    wh.writeback.record(_claim(tags), "run-1", NOW)  # claimed, then the run died before the outcome
    payload = store.get(int(tags.order_id)).rest()
    payload["note"] = "please ship everything together"
    payload["updated_at"] = "2026-11-24T15:00:00+00:00"
    land(wh, [payload], "ingest-2")
    _triage(wh, SHOP, POLICY, "run-2", NOW)
    entry = wh.writeback.ledger([tags.idempotency_key])[tags.idempotency_key]
    assert entry.status == "superseded"
    assert {r["outcome"] for r in _rows(wh, idempotency_key=tags.idempotency_key)} == {"superseded"}


def test_a_message_whose_answer_was_lost_goes_to_an_operator_not_out_again(wh):
    _triage(wh, SHOP, POLICY, "run-1", NOW)
    exception_id = _exception_order(wh, "run-1")
    lost = RecordingExecutor(answers={ActionKind.CHAT_ALERT: ExecutionResult("uncertain", "ReadTimeout after sending")})
    drained = drain_outbox(wh, gateway(wh, lost), SHOP, "run-1", STORE_WORKFLOWS)
    assert {u["action"] for u in drained.report.uncertain} == {"chat_alert"}
    [item] = [i for i in wh.writeback.pending_reviews() if i.order_id == exception_id and i.action == "chat_alert"]
    assert item.why.startswith("may have been posted")
    # Later runs do not post it again.
    again = RecordingExecutor()
    drain_outbox(wh, gateway(wh, again), SHOP, "run-2", STORE_WORKFLOWS)
    assert not any(a.kind is ActionKind.CHAT_ALERT for a in again.sent)
    # The operator looked in the channel, did not find it, and approves: it is posted once more, by them.
    result = approve_review(wh, gateway(wh, again), item.review_id, by="Dana", note="not in #ops")
    assert result["outcomes"] == {"written": 1} and [a.actor for a in again.sent] == ["Dana"]
    assert wh.writeback.ledger({item.idempotency_key})[item.idempotency_key].status == "done"


def test_the_question_about_a_lost_alert_stands_while_the_order_stays_an_exception(wh, store):
    _triage(wh, SHOP, POLICY, "run-1", NOW)
    exception_id = _exception_order(wh, "run-1")
    lost = RecordingExecutor(answers={ActionKind.CHAT_ALERT: ExecutionResult("uncertain", "ReadTimeout")})
    drain_outbox(wh, gateway(wh, lost), SHOP, "run-1", STORE_WORKFLOWS)
    payload = store.get(int(exception_id)).rest()
    payload["note"] = f"{payload.get('note') or ''} thanks!".strip()
    payload["updated_at"] = "2026-11-24T15:00:00+00:00"
    land(wh, [payload], "ingest-2")
    _triage(wh, SHOP, POLICY, "run-2", NOW)
    still = wh.decisions.state_of(SHOP, exception_id).value == "exception"
    questions = [i for i in wh.writeback.pending_reviews() if i.order_id == exception_id
                 and i.why.startswith("may have been posted")]
    assert still and len(questions) == 1


def test_a_run_killed_while_posting_leaves_the_message_to_an_operator(wh):
    _triage(wh, SHOP, POLICY, "run-1", NOW)
    alert = next(a for a in wh.outbox.of_run("run-1") if a.kind is ActionKind.CHAT_ALERT)
    # What a run killed mid-post leaves: the key claimed and marked as being sent, no outcome.
    gw = gateway(wh, RecordingExecutor())
    wh.writeback.record(_claim(alert), "run-1", NOW)
    wh.writeback.mark_sending(alert.idempotency_key, 1, NOW)
    executor = RecordingExecutor()
    drained = drain_outbox(wh, gateway(wh, executor), SHOP, "run-2", STORE_WORKFLOWS)
    assert alert.idempotency_key not in {a.idempotency_key for a in executor.sent}
    assert drained.report.uncertain == [{"order_id": alert.order_id, "action": "chat_alert"}]
    entry = wh.writeback.ledger([alert.idempotency_key])[alert.idempotency_key]
    assert entry.status == "uncertain" and gw.max_attempts == 8


def _claim(action: WriteAction):
    from oms_pipeline.storage.writeback import WritebackRecords

    return WritebackRecords(ledger_claims=[WritebackGateway._ledger_row(action, NOW)])


def test_a_write_that_keeps_failing_goes_to_an_operator_after_its_attempts(wh):
    _triage(wh, SHOP, POLICY, "run-1", NOW)
    for run in range(3):
        unreachable = gateway(wh, RecordingExecutor(fail_times=10_000), max_attempts=2)
        drain_outbox(wh, unreachable, SHOP, f"run-x{run}", STORE_WORKFLOWS)
    reasons = {i.why.split(";")[0] for i in wh.writeback.pending_reviews()}
    assert "failed 2 times" in reasons
    assert wh.outbox.counts().get("open", 0) < len(wh.outbox.of_run("run-1"))


def test_the_breaker_judges_each_run_by_its_own_batch(wh):
    holds = [WriteAction(shop_domain=SHOP, order_id=str(n), order_version="v", workflow=Workflow.HOLDS,
                         kind=ActionKind.PLACE_HOLD, trace_id=f"t{n}",
                         payload={"handle": "oms-x", "reason": "OTHER", "rule_id": "x", "reason_notes": "x"})
             for n in range(30)]
    tags = [WriteAction(shop_domain=SHOP, order_id=str(n), order_version="v", workflow=Workflow.TRIAGE_TAGS,
                        kind=ActionKind.ADD_TAGS, trace_id=f"t{n}", payload={"tags": ["oms:standard"]})
            for n in range(100, 140)]
    wh.outbox.add("run-holds", holds, OPEN, NOW)
    wh.outbox.add("run-tags", tags, OPEN, NOW + timedelta(seconds=1))
    executor = RecordingExecutor()
    drained = drain_outbox(wh, gateway(wh, executor, breaker=CircuitBreaker(0.5, 20)), SHOP, "run-3", STORE_WORKFLOWS)
    assert "30 of 30 orders" in drained.report.circuit_open[0]
    assert {a.kind for a in executor.sent} == {ActionKind.ADD_TAGS} and len(executor.sent) == 40
    assert {r["outcome"] for r in _rows(wh, run_id="run-holds")} == {"circuit_open"}


def test_migration_moves_saved_intents_into_the_outbox(tmp_path, store):
    wh = Warehouse(f"duckdb:///{tmp_path / 'old.duckdb'}")
    with wh.engine.begin() as conn:  # a warehouse as round 1 left it (migrations 1 to 6)
        schema.schema_migrations.create(conn)
        for version, name, apply in MIGRATIONS[:6]:
            apply(conn)
            conn.execute(sa.insert(schema.schema_migrations).values(version=version, name=name, applied_at=NOW))
    land(wh, [r.rest() for r in store.records()])
    triage_pending_old(wh)
    assert wh.migrate() == [7, 8]
    with wh.engine.connect() as conn:
        assert not sa.inspect(conn).has_table("writeback_intents")
    rows = _rows(wh, run_id="run-old")
    assert rows and {r["status"] for r in rows} == {AWAITING_GATE}
    decisions = wh.decisions.decisions_of_run("run-old")
    assert decisions["plan_run_id"].eq("run-old").all() and decisions["planned_at"].notna().all()
    executor = RecordingExecutor()
    drained = drain_outbox(wh, gateway(wh, executor), SHOP, "run-new", STORE_WORKFLOWS)
    assert drained.gates_rechecked == 1 and drained.earlier_finished == len(rows)
    wh.dispose()


def triage_pending_old(wh: Warehouse) -> None:
    """Decisions and intents saved the way round 1 saved them (a writeback_intents table per run)."""
    from oms_pipeline.domain.decisions.batch import decide_batch, local_notes
    from oms_pipeline.domain.writeback.intents import decision_actions

    orders = wh.decisions.candidates(SHOP, NOW).orders
    batch = decide_batch(orders, network=POLICY.network, rules=POLICY.rules, states={}, holds={}, now=NOW,
                         notes_engine=local_notes(NOTES()))
    actions = [a for d, o in zip(batch.decisions, orders, strict=True) for a in decision_actions(d, o, SHOP, None)]
    rows = []
    for d in batch.decisions:
        rows.append({"shop_domain": SHOP, "order_id": d.order_id, "order_fingerprint": d.fingerprint,
                     "order_name": d.order_name, "order_updated_at": NOW, "outcome": d.outcome.value,
                     "state": d.state.value, "reasons": json.dumps([list(r) for r in d.triage.reasons]),
                     "hold_reasons": "[]", "rules_version": "r",
                     "fraud_score": d.fraud.score, "fraud_reasons": "[]", "fraud_model_version": "m", "note_tags": "[]",
                     "notes_engine": "local", "confidence": d.confidence, "plan_summary": None, "planned_units": 0,
                     "ordered_units": 0, "ordered_by_sku": "{}", "trace_id": d.trace_id, "decided_at": NOW,
                     "run_id": "run-old"})
    states = [{"shop_domain": SHOP, "order_id": d.order_id, "state": d.state.value, "order_fingerprint": d.fingerprint,
               "order_updated_at": NOW, "recheck_at": None, "updated_at": NOW, "trace_id": d.trace_id}
              for d in batch.decisions]
    columns = [c.name for c in schema.order_decisions.columns if c.name not in ("plan_run_id", "planned_at")]
    with wh.engine.begin() as conn:
        for row in rows:
            conn.execute(sa.text(f"INSERT INTO order_decisions ({', '.join(columns)}) VALUES "
                                 f"({', '.join(':' + c for c in columns)})"), row)
        conn.execute(sa.insert(schema.order_states), states)
        conn.execute(sa.insert(schema.writeback_intents), [
            {"run_id": "run-old", "seq": n, "shop_domain": SHOP, "order_id": a.order_id, "trace_id": a.trace_id,
             "action_json": json.dumps(json.loads(a.model_dump_json()))} for n, a in enumerate(actions)])
