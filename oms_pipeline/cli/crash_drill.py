"""The crash drill: the order flow killed at random moments, again and again, then run to completion,
and the store checked against the decisions.

A sandbox store runs in this process with every workflow in ``auto`` mode and a few percent of requests
faulted. ``oms ingest --once`` (the same job the sensor and the schedule launch) runs in a child
process, in a process group of its own, and is killed with SIGKILL (the whole group) after a random
number of requests to the store or a random time into its work; every few kills the store changes
(edits, cancellations, new orders), so orders are decided again and earlier intents are superseded.
Targeted kills stop the child right after the store applied a write of a given kind and before the
answer reaches it (a hold, a Slack message, a Zendesk ticket, a note line, a 3PL order). Then one run
goes to completion, and another must write nothing.

:func:`audit_store` then compares the store, the chat and helpdesk, and the 3PL with what was decided:
every decision's writes present exactly once, nothing pending, nothing lost. ``oms bench crash`` prints
its figures; the test suite runs a short drill.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from oms_pipeline.domain.decisions.decide import OMS_NOTE_MARKER
from oms_pipeline.domain.routing.model import LocationKind
from oms_pipeline.domain.writeback.actions import ActionKind
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import read_frame
from oms_pipeline.storage.outbox import CLOSED
from oms_pipeline.storage.warehouse import Warehouse

# Writes whose answer a targeted kill intercepts, by the name the sandbox gives them.
TARGETS = ("graphql:HoldFulfillmentOrder", "slack", "zendesk_ticket", "graphql:UpdateOrderNote",
           "shipstation_createorder")
# What :func:`audit_store` counts that must be 0 once a run went to completion.
MUST_BE_ZERO = ("pending", "unsent_intents", "intents_without_ledger_row", "decisions_without_intents",
                "holds_missing_from_store", "orders_without_tag", "exceptions_without_alert",
                "exceptions_without_ticket", "exceptions_without_note", "handoffs_lost", "duplicate_chat_messages",
                "duplicate_tickets", "duplicate_holds", "duplicate_note_lines")
AUTO_MODES = {"rollout_triage_tags": "auto", "rollout_holds": "auto", "rollout_routing": "auto",
              "rollout_notifications": "auto", "rollout_handoff": "auto"}
CHILD_TIMEOUT_S = 600.0


@dataclass
class DrillLog:
    """What happened to each child run of the drill."""

    kills: list[dict[str, Any]] = field(default_factory=list)  # how each killed run was stopped
    completed: list[dict[str, Any]] = field(default_factory=list)  # JSON summaries of runs that finished
    store_events: int = 0


class _Child:
    """One ``oms ingest --once`` in its own process group, its output in files."""

    def __init__(self, env: dict[str, str], workdir: Path, n: int):
        self.out = workdir / f"run-{n:02d}.out"
        self.err = workdir / f"run-{n:02d}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen([sys.executable, "-m", "oms_pipeline.cli", "ingest", "--once"],
                                            env=env, stdout=out, stderr=err, start_new_session=True)
        self.killed = threading.Event()

    def kill(self) -> None:
        """SIGKILL the whole process group (once)."""
        if not self.killed.is_set():
            self.killed.set()
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def summary(self) -> dict[str, Any] | None:
        """The run's JSON summary line, if it printed one."""
        lines = [line for line in self.out.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else None


def child_env(sandbox: Any, workdir: Path, channels: dict[str, Any]) -> dict[str, str]:
    """The environment of a child run: the sandbox's store and channels, every workflow in auto mode."""
    values = {"data_dir": workdir, "warehouse_url": f"duckdb:///{workdir / 'warehouse.duckdb'}",
              "shopify_url": sandbox.url, "shop_domain": sandbox.shop_domain, "shopify_token": sandbox.token,
              "shopify_api": "rest", "shopify_timeout_s": 2.0, "notes_engine": "local", **AUTO_MODES, **channels}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMS_", "ANTHROPIC_"))}
    env.update({f"OMS_{k.upper()}": str(v) for k, v in values.items()})
    env["DAGSTER_HOME"] = str(workdir / "dagster_home")
    (workdir / "dagster_home").mkdir(parents=True, exist_ok=True)
    return env


def run_drill(sandbox: Any, env: dict[str, str], workdir: Path, *, kills: int, seed: int,
              targets: Sequence[str] = TARGETS, store_events_every: int = 1, store_events: int = 8) -> DrillLog:
    """Kill ``oms ingest --once`` right after a write of each target kind (each run at the first write of a
    kind not intercepted yet), then ``kills`` times at random (runs that end before their moment count as
    completed, not as kills; the store changes by ``store_events`` events every ``store_events_every``
    runs), then run it to completion twice. ``sandbox`` is a running
    :class:`~oms_pipeline.sandbox.server.SandboxServer`."""
    rng = random.Random(seed)
    log = DrillLog()
    store = sandbox.store
    n = 0
    remaining = list(targets)
    while remaining:  # each run is killed at the first write of a kind not intercepted yet
        n += 1
        child = _Child(env, workdir, n)
        fired: list[str] = []

        def hook(name: str, child: _Child = child, fired: list[str] = fired) -> None:
            if name in remaining and not fired:
                fired.append(name)
                child.kill()

        sandbox.after_write = hook
        _wait(child)
        sandbox.after_write = None
        if not fired:  # nothing of the remaining kinds was left to write: the run went to completion
            _record(log, child, {})
            break
        remaining.remove(fired[0])
        _record(log, child, {"target": fired[0]})
    # Random kills: each run gets new work (store events), and is killed after a random number of its
    # requests or a random time into its work, both drawn within what the last run that finished took.
    scale = {"requests": 200, "seconds": 10.0}
    attempts = 0
    while sum(1 for k in log.kills if "target" not in k) < kills and attempts < 4 * kills:
        attempts += 1
        if store_events_every and attempts % store_events_every == 0:
            store.advance(store_events)
            log.store_events += store_events
        n += 1
        trigger = ({"after_requests": rng.randint(1, max(1, scale["requests"]))} if rng.random() < 0.6
                   else {"after_seconds": round(rng.uniform(0.0, scale["seconds"]), 2)})
        trigger["then_s"] = round(rng.uniform(0.0, 0.4), 3)
        before = store.stats.get("requests", 0)
        child = _Child(env, workdir, n)
        took = _wait(child, trigger=trigger, requests=lambda before=before: store.stats.get("requests", 0) - before)
        if not child.killed.is_set():
            scale = {"requests": store.stats.get("requests", 0) - before, "seconds": took}
        _record(log, child, trigger)
    for _ in range(2):  # to completion; the second must find nothing left to write
        n += 1
        child = _Child(env, workdir, n)
        _wait(child)
        _record(log, child, {"to_completion": True})
    return log


def _wait(child: _Child, *, trigger: dict[str, Any] | None = None, requests: Any = None) -> float:
    """Wait for the child to end, killing it when the trigger fires; the seconds from its first request to
    its end (its work, without starting up)."""
    started = time.monotonic()
    first_request: float | None = None
    fire_at: float | None = None
    while child.process.poll() is None:
        now = time.monotonic()
        if now - started > CHILD_TIMEOUT_S:
            child.kill()
            raise TimeoutError(f"run {child.out.name} did not end in {CHILD_TIMEOUT_S:.0f} s")
        if requests is not None and first_request is None and requests():
            first_request = now
        if trigger and fire_at is None:
            made = requests()
            if ("after_requests" in trigger and made >= trigger["after_requests"]) or (
                    "after_seconds" in trigger and first_request is not None
                    and now - first_request >= trigger["after_seconds"]):
                fire_at = now + trigger["then_s"]
        if fire_at is not None and now >= fire_at:
            child.kill()
        time.sleep(0.01)
    child.process.wait()
    return time.monotonic() - (first_request or started)


def _record(log: DrillLog, child: _Child, how: dict[str, Any]) -> None:
    if child.killed.is_set():
        log.kills.append(how)
        return
    summary = child.summary()
    if summary is None:
        tail = child.err.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"run {child.out.name} ended ({child.process.returncode}) without a summary:\n{tail}")
    log.completed.append(summary)


def audit_store(wh: Warehouse, sandbox: Any, shop: str) -> dict[str, int]:
    """The store, chat, helpdesk and 3PL against the decisions: what is missing, doubled or unfinished.

    The figures named in :data:`MUST_BE_ZERO` must be 0 after a run to completion; the others count what
    waits for a person (``*_awaiting_review``, ``may_have_been_posted``), what the store refused, and totals.
    """
    with wh.engine.connect() as conn:
        ledger = pd.DataFrame(conn.execute(sa.select(schema.writeback_ledger)).mappings().all())
    outbox = read_frame(wh.engine, sa.select(schema.writeback_outbox))
    decisions = _latest_decisions(wh, shop)
    holds = read_frame(wh.engine, sa.select(schema.order_holds).where(schema.order_holds.c.shop_domain == shop))
    shipments = read_frame(wh.engine, sa.select(schema.planned_shipments))
    state = {r.served_id: sandbox.store.writeback_state(r.key) for r in sandbox.store.records() if r.served_id}
    slack = [m["text"] for m in sandbox.notifications.slack_messages]
    tickets = [(t["external_id"], t["subject"]) for t in sandbox.notifications.tickets]

    finished = ledger.loc[ledger["status"].isin(["done", "rejected"]), "idempotency_key"] if len(ledger) else []
    done_keys = set(finished)
    closed = outbox[outbox["status"] == CLOSED]
    sent = closed[closed["outcome"].isin(["written", "rejected", "duplicate"])]
    # Per order: the writes of its latest decision that are waiting for a person or were refused.
    outcome_of = {(r.trace_id, r.action): r.outcome for r in closed.itertuples()}
    waiting = {(r.order_id, r.action) for r in closed.itertuples() if r.outcome == "queued_for_review"}
    refused = {(r.order_id, r.action) for r in closed.itertuples() if r.outcome in ("rejected", "refused")}

    figures: Counter = Counter(dict.fromkeys(MUST_BE_ZERO, 0))
    figures["pending"] = int(ledger["status"].isin(["pending", "sending"]).sum()) if len(ledger) else 0
    figures["unsent_intents"] = int((outbox["status"] != CLOSED).sum())
    figures["intents_without_ledger_row"] = int((~sent["idempotency_key"].isin(done_keys)).sum())
    traced = set(outbox["trace_id"])
    live = decisions[~decisions["state"].isin(["cancelled", "fulfilled"])]
    figures["decisions_without_intents"] = int((~live["trace_id"].isin(traced)).sum())

    active = holds[holds["status"] == "active"]
    for row in active.itertuples():
        in_store = {h["handle"] for h in state.get(row.order_id, {}).get("holds", [])}
        if row.handle in in_store:
            continue
        key = (row.order_id, ActionKind.PLACE_HOLD.value)
        figures["holds_refused_by_store" if key in refused else "holds_awaiting_review" if key in waiting
                else "holds_missing_from_store"] += 1

    for row in live.itertuples():
        seen = state.get(row.order_id, {})
        if f"oms:{row.outcome}" not in seen.get("tags", []):
            figures["tags_awaiting_review" if (row.order_id, "add_tags") in waiting else "orders_without_tag"] += 1
        if row.state == "exception" and row.outcome == "exception":
            _audit_exception(row, seen, slack, tickets, shop, waiting, figures)
        if row.state in ("ready", "released"):
            tpl = shipments[(shipments["trace_id"] == row.trace_id) & (shipments["quantity"] > 0)
                            & (shipments["location_kind"] == LocationKind.THIRD_PARTY_LOGISTICS.value)]
            if len(tpl) and sandbox.shipstation.get_order(row.order_id) is None:
                why = outcome_of.get((row.trace_id, ActionKind.HANDOFF_TO_3PL.value))
                figures["handoffs_awaiting_review" if why == "queued_for_review" else "handoffs_lost"] += 1

    figures["duplicate_chat_messages"] = len(slack) - len(set(slack))
    figures["duplicate_tickets"] = len(tickets) - len(set(tickets))
    for seen in state.values():
        handles = [h["handle"] for h in seen.get("holds", [])]
        figures["duplicate_holds"] += len(handles) - len(set(handles))
        marked = [line for line in (seen.get("note") or "").splitlines() if line.lstrip().startswith(OMS_NOTE_MARKER)]
        figures["duplicate_note_lines"] += max(0, len(marked) - 1)
    figures["may_have_been_posted"] = int(closed["detail"].fillna("").str.startswith("may have been posted").sum())
    figures["decisions"] = len(decisions)
    figures["exceptions"] = int(((live["state"] == "exception") & (live["outcome"] == "exception")).sum())
    figures["active_holds"] = len(active)
    figures["tpl_orders"] = sandbox.shipstation.order_count()
    figures["writes_done"] = int((ledger["status"] == "done").sum()) if len(ledger) else 0
    figures["superseded"] = int((closed["outcome"] == "superseded").sum())
    figures["superseded_in_flight"] = int((ledger["status"] == "superseded").sum()) if len(ledger) else 0
    return dict(figures)


def _audit_exception(row: Any, seen: dict[str, Any], slack: list[str], tickets: list[tuple[str, str]], shop: str,
                     waiting: set[tuple[str, str]], figures: Counter) -> None:
    alert = f"Order {row.order_name} cannot proceed"
    checks = (("alert", ActionKind.CHAT_ALERT, any(text.startswith(alert) for text in slack)),
              ("ticket", ActionKind.HELPDESK_TICKET, any(eid == f"{shop}/{row.order_id}" for eid, _ in tickets)),
              ("note", ActionKind.UPDATE_NOTE, f"{OMS_NOTE_MARKER} exception" in (seen.get("note") or "")))
    for name, kind, present in checks:
        if not present:
            key = "awaiting_review" if (row.order_id, kind.value) in waiting else f"exceptions_without_{name}"
            figures[key] += 1


def _latest_decisions(wh: Warehouse, shop: str) -> pd.DataFrame:
    d, s = schema.order_decisions, schema.order_states
    return read_frame(wh.engine, sa.select(d).join(s, sa.and_(
        s.c.shop_domain == d.c.shop_domain, s.c.order_id == d.c.order_id, s.c.trace_id == d.c.trace_id))
        .where(d.c.shop_domain == shop))


