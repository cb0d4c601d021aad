"""The benchmarks behind ``oms bench``: each returns its figures (the command prints them, JSON last).

Performance is measured here, never by timed assertions in tests. The sandbox runs in another process
where the bench times the pipeline over loopback HTTP.
"""

from __future__ import annotations

import csv
import multiprocessing
import resource
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from dagster import DagsterInstance

from oms_pipeline.cli.crash_drill import audit_store, child_env, run_drill
from oms_pipeline.cli.demo import DEMO_MODES
from oms_pipeline.cli.jobs import run_ingestion
from oms_pipeline.domain.fraud.features import FeatureBuilder, parse_timestamp
from oms_pipeline.domain.fraud.labels import labels_as_of
from oms_pipeline.domain.fraud.model import train_fraud_model
from oms_pipeline.domain.notes.local import LocalNoteEngine, heldout_evaluation, load_corpus
from oms_pipeline.services.notes_files import LOCAL_BATCH
from oms_pipeline.services.reconcile_files import reconcile_files
from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage.warehouse import Warehouse


def _serve_sandbox(orders: int, seed: int, queue: Any, stop: Any) -> None:
    from oms_pipeline.sandbox.server import SandboxServer
    from oms_pipeline.sandbox.store import SandboxStore

    store = SandboxStore(seed=seed, orders=orders, rate_per_min=0.0, malformed_rate=0.03)
    # Shopify Plus-sized bucket: the bench measures the pipeline, not the plan's rate limit.
    with SandboxServer(store, restore_rate=10_000.0, bucket_size=200_000, rest_bucket_size=10_000,
                       rest_leak_per_s=1_000.0) as sandbox:
        queue.put((sandbox.url, sandbox.shop_domain))
        stop.wait()


def bench_ingestion(*, orders: int, api: str, seed: int) -> dict[str, Any]:
    """Ingest ``orders`` orders from a sandbox in another process (loopback HTTP) through the job."""
    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve_sandbox, args=(orders, seed, queue, stop), daemon=True)
    server.start()
    try:
        url, shop = queue.get(timeout=600)
        with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
            settings = OmsSettings(data_dir=Path(tmp), shopify_url=url, shop_domain=shop, shopify_api=api)
            home = Path(tmp) / "dagster_home"
            home.mkdir()
            instance = DagsterInstance.local_temp(tempdir=str(home))
            started = time.perf_counter()
            summary = run_ingestion(settings, instance)
            seconds = time.perf_counter() - started
    finally:
        stop.set()
        server.join(timeout=10)
    landed = summary["events_landed"]
    return {
        "bench": "ingest",
        "api": api,
        "orders": orders,
        "events_landed": landed,
        "orders_written": summary["orders_written"],
        "quarantined": summary["quarantined"],
        "requests": summary["requests"],
        "success": summary["success"],
        "seconds": round(seconds, 2),
        "orders_per_s": round(landed / seconds, 1) if seconds else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def bench_routing(*, orders: int, locations: int, services: int, seed: int, time_limit_s: float) -> dict[str, Any]:
    """Route a generated batch with the MILP optimizer and the greedy baseline; the figures."""
    from oms_pipeline.domain.routing import plan_batch
    from oms_pipeline.sandbox.routing_instances import generate_instance

    batch = generate_instance(orders, locations, services, seed)
    plan, greedy, figures = plan_batch(batch, time_limit_s=time_limit_s)
    bound = plan.solver.lower_bound
    return {
        "bench": "route", "orders": orders, "locations": locations, "services": services,
        "seconds": figures["seconds"], "status": plan.solver.status, "total_cost": round(plan.total_cost, 2),
        "greedy_cost": round(greedy.total_cost, 2),
        "lower_bound": None if bound is None else round(bound, 2),
        "gap_to_bound": None if bound is None else round((plan.total_cost - bound) / plan.total_cost, 5),
        "saved_vs_greedy": round(1 - plan.total_cost / greedy.total_cost, 5) if greedy.total_cost else 0.0,
        "split_rate": figures["split_rate"], "on_time_share": figures["on_time_share"],
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench_decide(*, orders: int, seed: int) -> dict[str, Any]:
    """Decide ``orders`` sandbox orders in one batch: state machine, triage, fulfillment plan and the
    writes each decision asks for (no network, no database)."""
    from oms_pipeline.domain.decisions import load_triage_rules
    from oms_pipeline.domain.decisions.batch import decide_batch, local_notes
    from oms_pipeline.domain.shopify.rest import parse_rest_order
    from oms_pipeline.domain.writeback.intents import decision_actions
    from oms_pipeline.sandbox.network import sandbox_network
    from oms_pipeline.sandbox.store import SandboxStore

    store = SandboxStore(seed=seed, orders=orders, rate_per_min=0.0, malformed_rate=0.0)
    batch_orders = [parse_rest_order(record.rest(), "bench.myshopify.com") for record in store.records()]
    rules, network = load_triage_rules(), sandbox_network(seed)
    trained = time.perf_counter()
    notes = LocalNoteEngine.train()  # the notes step's work, timed apart from the per-order cost
    train_seconds = time.perf_counter() - trained
    started = time.perf_counter()
    batch = decide_batch(batch_orders, network=network, rules=rules, states={}, holds={}, now=datetime.now(UTC),
                         notes_engine=local_notes(notes))
    actions = [a for d, o in zip(batch.decisions, batch_orders, strict=True)
               for a in decision_actions(d, o, "bench.myshopify.com", batch.summaries.get(o.id))]
    seconds = time.perf_counter() - started
    outcomes = Counter(d.outcome.value for d in batch.decisions)
    return {
        "bench": "decide", "orders": len(batch_orders), "seconds": round(seconds, 3),
        "ms_per_order": round(1000 * seconds / max(1, len(batch_orders)), 4),
        "outcomes": dict(outcomes), "intended_writes": len(actions),
        "planner": batch.plan.solver.status, "plan_seconds": batch.plan.solver.seconds,
        "notes_model_train_seconds": round(train_seconds, 2), "peak_rss_mb": peak_rss_mb(),
    }


def _serve_writeback_sandbox(orders: int, seed: int, faults: float, conn: Any) -> None:
    """A sandbox with Shopify Plus rate limits and injected faults; answers "state" with what it holds."""
    from oms_pipeline.sandbox.server import SandboxServer
    from oms_pipeline.sandbox.store import SandboxStore

    store = SandboxStore(seed=seed, orders=orders, rate_per_min=0.0, malformed_rate=0.0)
    # ShipStation's own limit is 40 requests a minute; the bench measures the pipeline, not that window.
    with SandboxServer(store, faults=faults, timeout_fault_s=0.5, restore_rate=1000.0, bucket_size=10_000,
                       seed=seed, shipstation_rate_limit=1000) as sandbox:
        conn.send({"url": sandbox.url, "shop": sandbox.shop_domain, "token": sandbox.token,
                   **sandbox.channel_settings()})
        while (command := conn.recv()) != "stop":
            if command == "state":
                conn.send({"stats": dict(store.stats),
                           "orders": {r.served_id: store.writeback_state(r.key) for r in store.records()},
                           "slack": [m["text"] for m in sandbox.notifications.slack_messages],
                           "tickets": [t["external_id"] for t in sandbox.notifications.tickets]})


def bench_writeback(*, orders: int, faults: float, seed: int) -> dict[str, Any]:
    """Decide ``orders`` sandbox orders, then write every decision and plan back through the gateway (the
    store's writes, alerts, tickets and 3PL handoffs, from the outbox) to a loopback sandbox (another
    process) with ``faults`` of requests failing and Plus rate limits on.

    ``lost``: writes still pending or unsent after a second pass (the next run) or done but not visible
    in the store; ``duplicates``: writes the store shows twice (two holds with one handle, two tickets or
    chat messages for one exception) plus second-pass writes beyond the keys the first left pending.
    """
    from oms_pipeline.domain.writeback.actions import ActionKind
    from oms_pipeline.resources import gateway_from_settings
    from oms_pipeline.services.decisions import decide_pending, load_decision_policy
    from oms_pipeline.services.note_model import local_note_model, note_models_dir
    from oms_pipeline.services.writeback import HANDOFF_WORKFLOWS, STORE_WORKFLOWS, drain_outbox

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve_writeback_sandbox, args=(orders, seed, faults, child), daemon=True)
    server.start()
    try:
        info = parent.recv()
        with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
            # Orders come in over REST (250 a page, its own bucket): the GraphQL bucket is the writeback's.
            settings = OmsSettings(data_dir=Path(tmp), shopify_url=info["url"], shop_domain=info["shop"],
                                   shopify_api="rest", shopify_timeout_s=2.0, **DEMO_MODES,
                                   **{k: info[k] for k in ("slack_webhook_url", "zendesk_url", "zendesk_email",
                                                            "zendesk_api_token", "network_file")})
            home = Path(tmp) / "dagster_home"
            home.mkdir()
            instance = DagsterInstance.local_temp(tempdir=str(home))
            # Land the orders (ingestion only), then decide them: the bench times the writeback.
            ingest = run_ingestion(settings, instance)
            wh = Warehouse(settings.resolved_warehouse_url)
            policy = load_decision_policy(None, settings.network_file, settings.hold_recheck_hours)
            notes = local_note_model(note_models_dir(settings.data_dir), train=True)
            summary = decide_pending(wh, settings.shop_domain, policy, "bench-decide", datetime.now(UTC), notes=notes)
            with gateway_from_settings(settings, wh) as gateway:
                started = time.perf_counter()
                report = drain_outbox(wh, gateway, settings.shop_domain, "bench-decide",
                                      [*STORE_WORKFLOWS, *HANDOFF_WORKFLOWS]).report
                seconds = time.perf_counter() - started
                client_stats = gateway.executor.store.client.stats
            # Writes whose retries all failed stay open; the second pass is the next run finishing them.
            pending_after_first = wh.writeback.ledger_counts().get("pending", 0)
            with gateway_from_settings(settings, wh) as gateway:
                rerun = drain_outbox(wh, gateway, settings.shop_domain, "bench-next-run",
                                     [*STORE_WORKFLOWS, *HANDOFF_WORKFLOWS]).report
            intents = wh.outbox.of_run("bench-decide")
            unsent = sum(n for status, n in wh.outbox.counts().items() if not status.startswith("closed"))
            ledger = wh.writeback.ledger_frame()
            wh.dispose()
        parent.send("state")
        state = parent.recv()
    finally:
        parent.send("stop")
        server.join(timeout=10)
    # Lost: a write the gateway set out to send that is not done (still pending), or done but not in
    # the store. Store refusals (userErrors) and review-queue items are reported, not lost.
    done = set(ledger.loc[ledger["status"] == "done", "idempotency_key"])
    lost = int((ledger["status"] == "pending").sum()) + unsent
    for action in {a.idempotency_key: a for a in intents if a.idempotency_key in done}.values():
        seen = state["orders"].get(action.order_id) or {}
        if action.kind is ActionKind.ADD_TAGS and not set(action.payload["tags"]) <= set(seen.get("tags", [])):
            lost += 1
        if action.kind is ActionKind.PLACE_HOLD and action.payload["handle"] not in {
                h["handle"] for h in seen.get("holds", [])}:
            lost += 1
    duplicates = max(0, rerun.written - pending_after_first)  # a second pass must only finish pending keys
    for seen in state["orders"].values():
        handles = [h["handle"] for h in seen.get("holds", [])]
        duplicates += len(handles) - len(set(handles))
    duplicates += len(state["slack"]) - len(set(state["slack"])) + len(state["tickets"]) - len(set(state["tickets"]))
    stats = state["stats"]
    return {
        "bench": "writeback", "orders": orders, "decided": summary.decided, "faults": faults,
        "intended_writes": len(intents), "written": report.written, "seconds": round(seconds, 2),
        "writes_per_s": round(report.written / seconds, 1) if seconds else None,
        "lost": lost, "duplicates": duplicates, "pending_after_first_pass": pending_after_first,
        "rerun_new_writes": rerun.written,
        "rejected_by_store": report.outcomes.get("rejected", 0),
        "queued_for_review": report.outcomes.get("queued_for_review", 0),
        "requests": client_stats.requests, "retries": client_stats.retries,
        "throttled_requests": stats.get("throttled", 0), "faults_injected": stats.get("faults", 0),
        "ingest_success": ingest["success"], "peak_rss_mb": peak_rss_mb(),
    }


def bench_notes(notes: int = 10_000) -> dict:
    """Time the local engine over ``notes`` notes; report ``ms_per_note`` and the held-out ``macro_f1``.

    The notes are the corpus' held-out notes, repeated to the count asked for. Training (once per
    process) is timed separately as ``train_s`` and is not in ``ms_per_note``.
    """
    rows = load_corpus()
    pool = [r for r in rows if r["split"] == "test"] or rows
    batch = [pool[i % len(pool)] for i in range(max(1, notes))]
    started = time.perf_counter()
    engine = LocalNoteEngine.train()
    train_s = time.perf_counter() - started
    texts = [r["note"] for r in batch]
    created = [datetime.fromisoformat(r["created_at"]) for r in batch]
    started = time.perf_counter()
    for start in range(0, len(batch), LOCAL_BATCH):
        engine.parse_many(texts[start:start + LOCAL_BATCH], created[start:start + LOCAL_BATCH])
    elapsed = time.perf_counter() - started
    heldout = heldout_evaluation(rows)
    return {
        "notes": len(batch),
        "ms_per_note": round(elapsed * 1000 / len(batch), 4),
        "macro_f1": heldout["macro_f1"],
        "train_s": round(train_s, 3),
        "engine": engine.version,
    }


def bench_fraud(orders: int = 100_000, seed: int = 0, *, capacity: float = 0.02, label_lag_days: int = 45) -> dict:
    """Generate a seeded labelled history, train on it and score its newest orders; return the figures.

    Labels are those known ``label_lag_days`` after the last order (most chargebacks are in by then),
    and evaluation is on the newest 20% of orders (see :func:`train_fraud_model`). Scoring speed is
    measured as production does it: features (history from all earlier orders) + probability +
    reasons for the newest 20% of orders, in one batch. ``*_truth`` figures compare the flags of
    those orders with the generator's ground truth rather than with the (noisy, late) labels.
    """
    from oms_pipeline.sandbox.fraud_history import build_fraud_history

    started = time.perf_counter()
    history = build_fraud_history(orders, seed=seed)
    generate_seconds = time.perf_counter() - started
    last = parse_timestamp(history.orders[-1]["created_at"])
    cutoff = datetime.fromtimestamp(last[0], UTC) + timedelta(days=label_lag_days)
    labels = labels_as_of(history.orders, history.disputes, history.review_outcomes, cutoff)

    started = time.perf_counter()
    model = train_fraud_model(history.orders, labels, capacity=capacity)
    train_seconds = time.perf_counter() - started

    split = int(len(history.orders) * 0.8)
    model.builder = FeatureBuilder().fit_history(history.orders[:split])
    newest = history.orders[split:]
    started = time.perf_counter()
    assessments = model.score(newest)
    score_seconds = time.perf_counter() - started
    m = model.metrics
    # Against the generator's ground truth too: labels miss undisputed fraud and include friendly fraud.
    flagged = [model.decide(a.score) == "review" for a in assessments]
    truth = [o["id"] in history.fraud_ids for o in newest]
    hits = sum(f and t for f, t in zip(flagged, truth, strict=True))
    return {
        "orders": len(history.orders),
        "seed": seed,
        "fraud_orders_true": len(history.fraud_ids),
        "fraud_labels_known": sum(labels.values()),
        "generate_seconds": round(generate_seconds, 3),
        "train_seconds": round(train_seconds, 3),
        "score_ms_per_order": round(score_seconds / max(1, len(newest)) * 1000, 4),
        "roc_auc": m.get("roc_auc"),
        "pr_auc": m.get("pr_auc"),
        "reference_pr_auc": m.get("reference_pr_auc"),
        "precision_at_capacity": m.get("precision_at_capacity"),
        "recall_at_capacity": m.get("recall_at_capacity"),
        "flagged_share_test": m.get("flagged_share_test"),
        "brier": m.get("brier"),
        "precision_at_capacity_truth": hits / sum(flagged) if any(flagged) else None,
        "recall_at_capacity_truth": hits / sum(truth) if any(truth) else None,
        "model_version": model.version,
    }


def bench_reconcile(orders: int, seed: int = 0) -> dict[str, Any]:
    """Generate ``orders`` seeded orders with planted problems, reconcile the files, check the truth.

    ``seconds`` and ``orders_per_s`` time :func:`reconcile_files` alone (loading, dbt, CSV), not
    the generation; ``planted_found`` counts planted variances found with the right order, type
    and amount; ``unexpected`` counts variances that were not planted.
    """
    from collections import Counter

    from oms_pipeline.sandbox.reconciliation_data import write_reconciliation_files

    generated_at = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="oms-bench-reconcile-") as scratch:
        data, paths = write_reconciliation_files(orders, Path(scratch), seed=seed)
        generated = time.perf_counter() - generated_at
        out = Path(scratch) / "VARIANCES.csv"
        summary = reconcile_files(*paths, data.as_of, out)
        with out.open(newline="", encoding="utf-8") as handle:
            found = Counter((row["order_id"] or None, row["variance_type"], Decimal(row["amount"]))
                            for row in csv.DictReader(handle))
    truth = Counter((v.order_id, v.variance_type, v.amount) for v in data.truth)
    return {
        "orders": orders, "shipments": summary["shipments"], "invoice_lines": summary["invoice_lines"],
        "generate_seconds": round(generated, 3), "load_seconds": summary["load_seconds"],
        "dbt_seconds": summary["dbt_seconds"], "planted": sum(truth.values()),
        "planted_found": sum((truth & found).values()), "unexpected": sum((found - truth).values()),
        "input_errors": len(summary["errors"]),
        "seconds": summary["seconds"], "orders_per_s": round(orders / summary["seconds"], 1),
        "variances": summary["variances"],
    }


def bench_crash(*, kills: int, orders: int, seed: int, faults: float, workdir: Path) -> dict[str, Any]:
    """``oms bench crash``: a sandbox in this process, the drill, then the audit; the figures."""
    from oms_pipeline.sandbox.server import SandboxServer
    from oms_pipeline.sandbox.store import SandboxStore

    store = SandboxStore(seed=seed, orders=orders, rate_per_min=0.0, malformed_rate=0.03)
    started = time.perf_counter()
    # Plus-sized buckets: the runs are long enough to be killed inside every step, short enough to repeat.
    with SandboxServer(store, faults=faults, timeout_fault_s=0.5, restore_rate=1000.0, bucket_size=10_000,
                       seed=seed, shipstation_rate_limit=1000) as sandbox:
        env = child_env(sandbox, workdir, sandbox.channel_settings())
        log = run_drill(sandbox, env, workdir, kills=kills, seed=seed)
        wh = Warehouse(f"duckdb:///{workdir / 'warehouse.duckdb'}")
        try:
            figures = audit_store(wh, sandbox, sandbox.shop_domain)
        finally:
            wh.dispose()
    final, last = log.completed[-2], log.completed[-1]
    return {"bench": "crash", "orders": orders, "kills": len(log.kills), "seed": seed, "faults": faults,
            "targeted_kills": sum(1 for k in log.kills if "target" in k), "store_events": log.store_events,
            "runs_completed": len(log.completed),
            "earlier_writes_finished": sum(r.get("earlier_writes_finished", 0) for r in log.completed),
            "final_run_success": final["success"], "last_run_written": last["written"],
            "last_run_decided": last["decided"], **figures, "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": peak_rss_mb()}
