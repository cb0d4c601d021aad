"""Running the code location's jobs outside ``dagster dev``: the CLI's demo, one-shot ingest and bench.

Every path runs the same Dagster jobs the sensor and schedules launch, in-process, on the Dagster
instance of ``DAGSTER_HOME``, so runs show in the UI afterwards.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, ExecuteInProcessResult

from oms_pipeline.definitions import build_definitions
from oms_pipeline.defs.dbt.definitions import BUILD_WAREHOUSE_MODELS_JOB
from oms_pipeline.defs.finance.assets import FINANCE_REPORT_ASSET
from oms_pipeline.defs.finance.definitions import FINANCE_REPORT_JOB
from oms_pipeline.defs.finance.resources import finance_report_resource
from oms_pipeline.defs.fraud.definitions import TRAIN_FRAUD_MODEL_JOB
from oms_pipeline.defs.ingestion.jobs import INGEST_ORDERS_JOB
from oms_pipeline.defs.ingestion.sensors import PROCESS_ORDERS_JOB
from oms_pipeline.defs.reconciliation.definitions import LANDING_JOB
from oms_pipeline.defs.reconciliation.resources import carrier_invoice_dir
from oms_pipeline.reporting.marts import read_finance_marts
from oms_pipeline.settings import OmsSettings, ensure_dagster_home
from oms_pipeline.storage.warehouse import Warehouse

# The full event log is in the Dagster UI; the terminal shows warnings and the summary.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_job(settings: OmsSettings, job_name: str, instance: DagsterInstance | None = None,
            run_config: dict[str, Any] | None = None, partition_key: str | None = None) -> ExecuteInProcessResult:
    """Execute one job of the code location in-process on the given (or the default) instance."""
    job = build_definitions(settings).resolve_job_def(job_name)
    return job.execute_in_process(run_config={**QUIET_CONSOLE, **(run_config or {})},
                                  instance=instance or DagsterInstance.get(), raise_on_error=False,
                                  partition_key=partition_key)


def dbt_log_path(settings: OmsSettings) -> Path:
    """Where the CLI's runs of dbt jobs write dbt's own output (the Dagster UI has it per run too)."""
    return settings.data_dir / "logs" / "dbt.log"


def _run_dbt_job(settings: OmsSettings, job_name: str, instance: DagsterInstance | None,
                 partition_key: str | None = None) -> ExecuteInProcessResult:
    """:func:`run_job` for a job that runs dbt: dagster-dbt echoes every dbt log line to stdout (for
    compute logs), which would bury the CLI's summary, so it goes to :func:`dbt_log_path` instead."""
    path = dbt_log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        return run_job(settings, job_name, instance, partition_key=partition_key)


def _metadata(result: ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        found[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return found


def _check_outcomes(result: ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def run_ingestion(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """One poll of the store through the ``ingest_orders`` job; a summary of what happened."""
    started = time.perf_counter()
    result = run_job(settings, INGEST_ORDERS_JOB, instance)
    return {
        "command": "ingest",
        "run_id": result.run_id,
        "success": result.success,
        "shop_domain": settings.shop_domain,
        **_ingestion_figures(result, _metadata(result)),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _ingestion_figures(result: ExecuteInProcessResult, meta: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a run's ingestion assets and their check reported."""
    raw, orders, quarantine = (meta.get(k, {}) for k in ("raw_order_events", "orders", "quarantined_orders"))
    return {
        "events_fetched": raw.get("events_fetched", 0),
        "events_landed": raw.get("events_landed", 0),
        "events_already_landed": raw.get("events_already_landed", 0),
        "orders_written": orders.get("orders_written", 0),
        "stale_versions_ignored": orders.get("stale_versions_ignored", 0),
        "quarantined": quarantine.get("quarantined_this_run", 0),
        "quarantine_reasons": quarantine.get("reasons_this_run", {}),
        "checks": _check_outcomes(result),
        "high_water_mark": raw.get("high_water_mark"),
        "requests": raw.get("requests", 0),
        "retries": raw.get("retries", 0),
        "throttled_answers": raw.get("throttled_answers", 0),
        "warehouse_orders": orders.get("dagster/row_count"),
    }


def run_order_flow(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """One pass of the whole order flow (``process_orders``): poll, validate, decide, write back."""
    started = time.perf_counter()
    result = run_job(settings, PROCESS_ORDERS_JOB, instance)
    meta = _metadata(result)
    triage, writeback = meta.get("order_triage", {}), meta.get("store_writeback", {})
    scores, notes = meta.get("fraud_scores", {}), meta.get("order_note_tags", {})
    plans = meta.get("fulfillment_plans", {})
    handoff, slips = meta.get("tpl_handoff", {}), meta.get("packing_slips", {})
    failure = _failure(result)
    return {
        "run_id": result.run_id,
        "success": result.success,
        **_ingestion_figures(result, meta),
        "decided": triage.get("decided", 0),
        "unchanged_versions": triage.get("unchanged_versions", 0),
        "outcomes": triage.get("outcomes", {}),
        "states": triage.get("states", {}),
        "reasons": triage.get("reasons", {}),
        "holds_placed": triage.get("holds_placed", {}),
        "fraud": {k: scores.get(k) for k in ("model_version", "scored", "review")},
        "notes": {k: notes.get(k) for k in ("engine", "engine_version", "parsed", "reused", "without_note")},
        "handoff": {"to_3pl": plans.get("handoffs_to_3pl", 0), "handed_off": handoff.get("handed_off", 0),
                    "packing_slips": slips.get("slips", 0), "bulk_pdf": slips.get("bulk_pdf")},
        "plan": {k: plans.get(k) for k in ("orders_planned", "total_cost", "greedy_cost", "cost_saved", "split_rate",
                                           "on_time_share", "solver_gap", "solver_status", "rate_shopped")},
        "writes": writeback.get("outcomes", {}),
        "writes_by_workflow": writeback.get("by_workflow", {}),
        "written": writeback.get("written", 0) + handoff.get("handed_off", 0),
        "earlier_writes_finished": writeback.get("earlier_writes_finished", 0)
        + handoff.get("earlier_writes_finished", 0),
        "writes_left_open": writeback.get("left_open", 0) + handoff.get("left_open", 0),
        "may_have_been_posted": writeback.get("may_have_been_posted", 0),
        "blocked_by_gate": writeback.get("blocked_by_gate", 0) + handoff.get("blocked_by_gate", 0),
        "writeback_ran": "store_writeback" in meta,
        "failure": failure,
        "seconds": round(time.perf_counter() - started, 2),
    }


def run_fraud_training(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Land disputes, train a fraud model, check it and promote it (``train_fraud_model``); a summary."""
    started = time.perf_counter()
    result = run_job(settings, TRAIN_FRAUD_MODEL_JOB, instance)
    meta = _metadata(result)
    model, disputes = meta.get("fraud_model", {}), meta.get("payment_disputes", {})
    return {
        "run_id": result.run_id,
        "success": result.success,
        "disputes": disputes.get("disputes", 0),
        "model_version": model.get("model_version"),
        "metrics": {k: model.get(k) for k in ("roc_auc", "pr_auc", "reference_pr_auc", "precision_at_capacity",
                                              "recall_at_capacity", "brier", "review_capacity")},
        "rows": model.get("rows", {}),
        "checks": _check_outcomes(result),
        "promoted": "active_fraud_model" in meta,
        "failure": _failure(result),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _failure(result: ExecuteInProcessResult) -> str | None:
    return next((e.event_specific_data.error.message.strip() for e in result.all_events
                 if e.is_step_failure and e.event_specific_data and e.event_specific_data.error), None)


def run_warehouse_models(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Build the dbt models (staging and marts) with their tests; a summary."""
    result = _run_dbt_job(settings, BUILD_WAREHOUSE_MODELS_JOB, instance)
    meta = _metadata(result)
    checks = _check_outcomes(result)
    return {
        "success": result.success,
        "models": sorted(meta),
        "tests": len(checks),
        "tests_passed": sum(checks.values()),
        "rows": {k: v.get("dagster/row_count") for k, v in meta.items() if v.get("dagster/row_count") is not None},
    }


def run_reconciliation_landing(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Land what the store settled, what the 3PL shipped and what the carrier billed; a summary."""
    result = run_job(settings, LANDING_JOB, instance)
    meta = _metadata(result)
    return {"success": result.success, "failure": _failure(result),
            **{name: {"read": m.get("read"), "errors": m.get("errors")} for name, m in meta.items()}}


def run_finance_day(settings: OmsSettings, day: date, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Build one as-of day of the reconciliation marts and its finance report; a summary with the day's
    variances by type and the report's files."""
    result = _run_dbt_job(settings, FINANCE_REPORT_JOB, instance, partition_key=day.isoformat())
    meta = _metadata(result)
    report = meta.get(FINANCE_REPORT_ASSET, {})
    checks = _check_outcomes(result)
    summary: dict[str, Any] = {"success": result.success, "failure": _failure(result), "as_of": day.isoformat(),
                               "tests": len(checks), "tests_passed": sum(checks.values()),
                               "report_html": report.get("report_html"), "report_pdf": report.get("report_pdf"),
                               "totals": report.get("totals") or {}, "by_type": {}}
    if result.success:
        wh = Warehouse(settings.resolved_warehouse_url)
        try:
            marts = read_finance_marts(wh.engine, finance_report_resource(settings).dbt_schema, day)
        finally:
            wh.dispose()
        summary["by_type"] = dict(Counter(marts.variances["variance_type"]))
        summary["variances"] = marts.variances
    return summary


DEMO_ANCHOR = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
# Months of paid and shipped orders with a fraud process and late chargebacks, for the fraud model.
DEMO_HISTORY = {"history_orders": 4000, "history_days": 120, "fraud_rate": 0.04}
DEMO_MODES = {"rollout_triage_tags": "auto", "rollout_holds": "auto", "rollout_routing": "auto",
              "rollout_notifications": "auto", "rollout_handoff": "auto"}


class ManualClock:
    """A clock that moves only when told: the demo store's history is the same on every run."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.now += delta


def run_demo(*, orders: int, seed: int, malformed: float, faults: float) -> dict[str, Any]:
    """Sandbox store -> the order flow (poll, validate, decide, write back) twice, with store changes
    between -> dbt; a summary. The sandbox's history is anchored in time, so a second demo sees the
    same orders and, its ledger remembering the first, writes nothing again."""
    from oms_pipeline.sandbox.carrier_billing import write_shipped_label_invoices
    from oms_pipeline.sandbox.server import SandboxServer
    from oms_pipeline.sandbox.store import SandboxStore

    base = OmsSettings()
    clock = ManualClock(DEMO_ANCHOR)
    store = SandboxStore(seed=seed, orders=orders, rate_per_min=0.0, malformed_rate=malformed, clock=clock,
                         **DEMO_HISTORY)
    # Shopify Plus rate limits (1,000 points/s): the demo should take seconds, not minutes.
    with SandboxServer(store, faults=faults, timeout_fault_s=1.5, restore_rate=1000.0, bucket_size=10_000,
                       seed=seed, shipstation_rate_limit=1000) as sandbox:
        # Validated, not copied: secrets from plain strings become SecretStr as from the environment.
        settings = OmsSettings.model_validate({
            **base.model_dump(), "shopify_url": sandbox.url, "shop_domain": sandbox.shop_domain,
            "shopify_timeout_s": 1.0, **DEMO_MODES, **sandbox_channels(sandbox)})
        ensure_dagster_home(settings)
        instance = DagsterInstance.get()
        # A fresh sandbox is a new store whose history predates any earlier demo's high-water mark.
        Warehouse(settings.resolved_warehouse_url).reset_high_water_mark(settings.shop_domain)
        # Land the store's history first, so the fraud model trains on it before orders are decided:
        # a backfill, over REST's 250-order pages (GraphQL's cost limits allow a few orders a page).
        history = run_ingestion(settings.model_copy(update={"shopify_api": "rest"}), instance)
        training = run_fraud_training(settings, instance)
        first = run_order_flow(settings, instance)
        clock.advance(timedelta(minutes=10))
        store.advance(40)  # edits, captures, refunds, fulfillments, cancellations, new orders
        clock.advance(timedelta(minutes=1))
        second = run_order_flow(settings, instance)
        # A day on: the 3PL ships what it was handed, the carrier bills the labels the day after (with
        # problems planted), everything lands, and that day's reconciliation marts and finance report build.
        clock.advance(timedelta(days=1, hours=1))
        shipped = sandbox.shipstation.ship_due()
        ship_day = (clock.now - timedelta(hours=1)).date()
        _files, planted = write_shipped_label_invoices(sandbox.shipstation.shipments(), ship_day,
                                                       carrier_invoice_dir(settings))
        clock.advance(timedelta(days=1))  # the invoice day
        landing = run_reconciliation_landing(settings, instance)
        models = run_warehouse_models(settings, instance)
        finance = run_finance_day(settings, ship_day + timedelta(days=1), instance)
        reconciliation = _reconciliation_summary(shipped, planted, landing, finance)
        stats = dict(store.stats)
        alerts = {"chat": len(sandbox.notifications.slack_messages), "tickets": len(sandbox.notifications.tickets)}
    wh = Warehouse(settings.resolved_warehouse_url)
    totals = {"states": wh.decisions.outcome_counts(settings.shop_domain),
              "active_holds": wh.decisions.active_hold_counts(settings.shop_domain),
              "ledger": wh.writeback.ledger_counts(),
              "review_queue": len(wh.writeback.pending_reviews(settings.shop_domain))}
    success = history["success"] and training["success"] and first["success"] and second["success"] \
        and models["success"] and reconciliation["success"]
    text = _demo_text(settings, orders, seed, malformed, faults, first, second, models, stats, alerts, totals,
                      history, training, reconciliation)
    return {"command": "demo", "success": success, "polls": [first, second], "dbt": models, "totals": totals,
            "history": history, "fraud_training": training, "reconciliation": reconciliation,
            "sandbox_alerts": alerts, "warehouse": settings.resolved_warehouse_url,
            "dagster_home": str(settings.dagster_home), "text": text}


def _reconciliation_summary(shipped: int, planted: list[Any], landing: dict[str, Any],
                            finance: dict[str, Any]) -> dict[str, Any]:
    """What the demo's reconciliation day found, against the carrier problems the sandbox planted."""
    summary = {key: value for key, value in finance.items() if key != "variances"}
    summary.update(shipped=shipped, landing=landing, planted=len(planted), planted_found=0,
                   success=landing["success"] and finance["success"])
    variances = finance.get("variances")
    if variances is not None:
        def key(order_id: Any, kind: str, amount: Any) -> tuple[str | None, str, float]:
            return (None if order_id is None or order_id != order_id else str(order_id)), kind, round(float(amount), 2)

        found = {key(r.order_id, r.variance_type, r.amount) for r in variances.itertuples()}
        summary["planted_found"] = sum(key(c.order_key, c.variance_type, c.amount) in found for c in planted)
    return summary


def sandbox_channels(sandbox: Any) -> dict[str, Any]:
    """Settings that point Slack, Zendesk and the carrier rates API at the sandbox's emulations, and the
    fulfillment network at the sandbox's."""
    from oms_pipeline.sandbox.carriers import DEFAULT_CARRIER_API_KEY

    return {"network_file": sandbox.network_file,
            "slack_webhook_url": sandbox.slack_webhook_url, "zendesk_url": sandbox.zendesk_url,
            "zendesk_email": sandbox.notifications.zendesk_email,
            "zendesk_api_token": sandbox.notifications.zendesk_api_token,
            "carrier_rates_url": sandbox.url, "carrier_rates_api_key": DEFAULT_CARRIER_API_KEY}


def _workflow_counts(*polls: dict[str, Any]) -> str:
    merged: dict[str, Counter] = {}
    for poll in polls:
        for workflow, counts in poll["writes_by_workflow"].items():
            merged.setdefault(workflow, Counter()).update(counts)
    return "; ".join(f"{workflow}: {_counts(counts)}" for workflow, counts in sorted(merged.items())) or "none"


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def _demo_text(settings: OmsSettings, orders: int, seed: int, malformed: float, faults: float,
               first: dict[str, Any], second: dict[str, Any], models: dict[str, Any],
               stats: dict[str, Any], alerts: dict[str, int], totals: dict[str, Any],
               history: dict[str, Any], training: dict[str, Any], reconciliation: dict[str, Any]) -> str:
    def poll_line(label: str, poll: dict[str, Any]) -> str:
        checks = ", ".join(f"{name} {'passed' if ok else 'FAILED'}" for name, ok in poll["checks"].items())
        return (f"{label}: {poll['events_landed']} order versions landed ({poll['events_already_landed']} seen "
                f"before), {poll['orders_written']} orders written, {poll['quarantined']} quarantined; "
                f"{poll['requests']} requests, {poll['retries']} retried, {poll['throttled_answers']} throttled; "
                f"checks: {checks or 'none ran'}")

    def decision_line(poll: dict[str, Any]) -> str:
        writes = poll["writes"]
        again = writes.get("duplicate", 0)
        line = (f"  decided {poll['decided']} orders ({_counts(poll['outcomes'])}); "
                f"{poll['unchanged_versions']} new versions changed nothing decisions read; "
                f"external writes this run: {poll['written']}")
        if again:
            line += f" ({again} already in the ledger, not sent again)"
        if not poll["writeback_ran"]:
            line += "; WRITEBACK DID NOT RUN" + (f": {poll['failure']}" if poll["failure"] else "")
        return line

    def fraud_lines() -> list[str]:
        m, rows = training["metrics"], training["rows"]
        if not training["success"] or not training["model_version"]:
            return [f"fraud model: NOT TRAINED ({training['failure']}); the rules stand-in scores orders"]

        def fig(key: str) -> str:
            return "n/a" if m.get(key) is None else f"{m[key]:.3f}"

        verdict = "promoted" if training["promoted"] else "NOT promoted (failed its check; the earlier model stays)"
        return [
            f"fraud model {training['model_version']}: {training['disputes']} disputes landed; trained on "
            f"{rows.get('rows_train')} orders, evaluated on the newest {rows.get('rows_test')} "
            f"({rows.get('positives_test')} fraud); ROC-AUC {fig('roc_auc')}, PR-AUC {fig('pr_auc')} "
            f"(reference {fig('reference_pr_auc')}), at {m['review_capacity']:.0%} review capacity precision "
            f"{fig('precision_at_capacity')} recall {fig('recall_at_capacity')}; {verdict}",
            f"  fraud scores: {first['fraud']['scored']} orders scored with {first['fraud']['model_version']}, "
            f"{first['fraud']['review']} put up for review",
        ]

    def plan_line(poll: dict[str, Any]) -> str:
        p = poll["plan"]
        if not p.get("orders_planned"):
            return "  fulfillment plan: nothing to plan"
        gap = "n/a" if p.get("solver_gap") is None else f"{p['solver_gap']:.2%}"
        return (f"  fulfillment plan: {p['orders_planned']} orders, cost {p['total_cost']:.2f} vs greedy "
                f"{p['greedy_cost']:.2f} (saved {p['cost_saved']:.2f}), solver {p['solver_status']} gap {gap}, "
                f"split rate {p['split_rate']:.1%}, on time {p['on_time_share']:.1%}, "
                f"{p['rate_shopped']} shipments rate-shopped")

    def handoff_line(poll: dict[str, Any]) -> str:
        h = poll["handoff"]
        line = (f"  3PL handoff: {h['handed_off']} of {h['to_3pl']} orders for the 3PL sent (ShipStation "
                f"createorder); {h['packing_slips']} packing slips")
        return line + (f", all in {h['bulk_pdf']}" if h["bulk_pdf"] else "")

    def notes_line(poll: dict[str, Any]) -> str:
        n = poll["notes"]
        return (f"  notes: {n['parsed']} parsed by {n['engine']} ({n['engine_version']}), {n['reused']} reused, "
                f"{n['without_note']} without a note")

    runs = (history, training, first, second, models, reconciliation)

    def reconciliation_lines() -> list[str]:
        r = reconciliation
        if not r["success"]:
            return [f"reconciliation: FAILED ({r['landing'].get('failure') or r.get('failure')})"]
        landed = ", ".join(f"{name} {m['read']} read" for name, m in r["landing"].items() if isinstance(m, dict))
        t = r["totals"]
        return [
            f"reconciliation day {r['as_of']}: the 3PL shipped {r['shipped']} orders, the carrier billed their "
            f"labels; landed: {landed}",
            f"  marts as of {r['as_of']}: {r['tests_passed']}/{r['tests']} tests passed; variances: "
            f"{_counts(r['by_type']) or 'none'}; the {r['planted']} carrier problems the sandbox planted: "
            f"{r['planted_found']} found",
            f"  finance report: shipping charged {t.get('shipping_charged', 0):.2f}, carrier billed "
            f"{t.get('carrier_billed', 0):.2f}, variance amount {t.get('variance_amount', 0):.2f}; {r['report_html']}",
        ]

    lines = [
        f"oms demo: sandbox store {settings.shop_domain} ({orders} orders, seed {seed}, "
        f"{malformed:.0%} malformed, {faults:.0%} of requests faulted) with "
        f"{DEMO_HISTORY['history_orders']} older orders over {DEMO_HISTORY['history_days']} days; "
        "rollout modes: all auto",
        poll_line("history", history),
        *fraud_lines(),
        poll_line("poll 1", first),
        notes_line(first),
        decision_line(first),
        plan_line(first),
        handoff_line(first),
        poll_line("poll 2 (after 40 store events)", second),
        decision_line(second),
        "orders by state: " + _counts(totals["states"]),
        "active holds by rule: " + _counts(totals["active_holds"]),
        "writebacks by workflow (both polls): " + _workflow_counts(first, second),
        f"exception alerts received by the sandbox: {alerts['chat']} Slack messages, {alerts['tickets']} "
        f"Zendesk tickets; review queue: {totals['review_queue']} waiting (oms review list)",
        "writeback ledger (all runs): " + _counts(totals["ledger"]),
    ]
    if first["written"] + second["written"] == 0:
        lines.append("this demo performed zero new external writes: every decision was already written "
                     "(the ledger remembers earlier runs)")
    lines += [
        f"dbt: {len(models['models'])} models built, {models['tests_passed']}/{models['tests']} tests passed "
        f"(dbt's output: {dbt_log_path(settings)})",
        *reconciliation_lines(),
        "sandbox faults injected: " + (", ".join(
            f"{k.removeprefix('fault_')} {v}" for k, v in sorted(stats.items()) if k.startswith("fault_")) or "none"),
        f"warehouse: {settings.resolved_warehouse_url}",
        f"Dagster instance: {settings.dagster_home} (SQLite)",
        "open the UI: oms ui   (Dagster UI with the sandbox and the sensor; then http://127.0.0.1:3000)",
        f"result: {'OK' if all(r['success'] for r in runs) else 'FAILED'}",
    ]
    return "\n".join(lines)


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
    from oms_pipeline.domain.routing import generate_instance, plan_batch

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
    from oms_pipeline.domain.decisions.batch import decide_batch
    from oms_pipeline.domain.shopify.rest import parse_rest_order
    from oms_pipeline.domain.writeback.intents import decision_actions
    from oms_pipeline.sandbox.network import sandbox_network
    from oms_pipeline.sandbox.store import SandboxStore

    store = SandboxStore(seed=seed, orders=orders, rate_per_min=0.0, malformed_rate=0.0)
    batch_orders = [parse_rest_order(record.rest(), "bench.myshopify.com") for record in store.records()]
    from oms_pipeline.domain.notes.local import local_engine

    rules, network = load_triage_rules(), sandbox_network(seed)
    trained = time.perf_counter()
    local_engine()  # trained once per process: timed apart from the per-order cost
    train_seconds = time.perf_counter() - trained
    started = time.perf_counter()
    batch = decide_batch(batch_orders, network=network, rules=rules, states={}, holds={}, now=datetime.now(UTC))
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
                   **sandbox_channels(sandbox)})
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
    from oms_pipeline.resources import decisions_resource, resources_from_settings
    from oms_pipeline.services.decisions import decide_pending, load_decision_policy
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
            summary = decide_pending(wh, settings.shop_domain, policy, "bench-decide", datetime.now(UTC))
            shopify = resources_from_settings(settings)["shopify"]
            decisions = decisions_resource(settings)
            with decisions.gateway(wh, shopify) as gateway:
                started = time.perf_counter()
                report = drain_outbox(wh, gateway, settings.shop_domain, "bench-decide",
                                      [*STORE_WORKFLOWS, *HANDOFF_WORKFLOWS]).report
                seconds = time.perf_counter() - started
                client_stats = gateway.executor.store.client.stats
            # Writes whose retries all failed stay open; the second pass is the next run finishing them.
            pending_after_first = wh.writeback.ledger_counts().get("pending", 0)
            with decisions.gateway(wh, shopify) as gateway:
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
