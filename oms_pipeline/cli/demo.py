"""``oms demo``: the main job on embedded defaults against a sandbox store, and its summary.

The sandbox's history is anchored in time, so a second demo sees the same orders and, its ledger
remembering the first, writes nothing again.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from dagster import DagsterInstance

from oms_pipeline.cli.jobs import (
    dbt_log_path,
    run_finance_day,
    run_fraud_training,
    run_ingestion,
    run_order_flow,
    run_reconciliation_landing,
    run_warehouse_models,
)
from oms_pipeline.defs.reconciliation.resources import carrier_invoice_dir
from oms_pipeline.settings import OmsSettings, ensure_dagster_home
from oms_pipeline.storage.warehouse import Warehouse

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
            "shopify_timeout_s": 1.0, **DEMO_MODES, **sandbox.channel_settings()})
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
