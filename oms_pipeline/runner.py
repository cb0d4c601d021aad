"""Running the code location's jobs outside ``dagster dev``: the CLI's demo, one-shot ingest and bench.

Every path runs the same Dagster jobs the sensor and schedules launch, in-process, on the Dagster
instance of ``DAGSTER_HOME``, so runs show in the UI afterwards.
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, ExecuteInProcessResult

from oms_pipeline.definitions import build_definitions
from oms_pipeline.defs.dbt.definitions import BUILD_WAREHOUSE_MODELS_JOB
from oms_pipeline.defs.ingestion.jobs import INGEST_ORDERS_JOB
from oms_pipeline.settings import OmsSettings, ensure_dagster_home
from oms_pipeline.storage.warehouse import Warehouse

# The full event log is in the Dagster UI; the terminal shows warnings and the summary.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_job(settings: OmsSettings, job_name: str, instance: DagsterInstance | None = None,
            run_config: dict[str, Any] | None = None) -> ExecuteInProcessResult:
    """Execute one job of the code location in-process on the given (or the default) instance."""
    job = build_definitions(settings).resolve_job_def(job_name)
    return job.execute_in_process(run_config={**QUIET_CONSOLE, **(run_config or {})},
                                  instance=instance or DagsterInstance.get(), raise_on_error=False)


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
    meta = _metadata(result)
    raw, orders, quarantine = (meta.get(k, {}) for k in ("raw_order_events", "orders", "quarantined_orders"))
    return {
        "command": "ingest",
        "run_id": result.run_id,
        "success": result.success,
        "shop_domain": settings.shop_domain,
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
        "seconds": round(time.perf_counter() - started, 2),
    }


def run_warehouse_models(settings: OmsSettings, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Build the dbt models (staging and marts) with their tests; a summary."""
    result = run_job(settings, BUILD_WAREHOUSE_MODELS_JOB, instance)
    meta = _metadata(result)
    checks = _check_outcomes(result)
    return {
        "success": result.success,
        "models": sorted(meta),
        "tests": len(checks),
        "tests_passed": sum(checks.values()),
        "rows": {k: v.get("dagster/row_count") for k, v in meta.items() if v.get("dagster/row_count") is not None},
    }


def run_demo(*, orders: int, seed: int, malformed: float, faults: float) -> dict[str, Any]:
    """Sandbox store -> two polls of the ingestion job (with store changes between) -> dbt; a summary."""
    from oms_pipeline.sandbox.server import SandboxServer
    from oms_pipeline.sandbox.store import SandboxStore

    base = OmsSettings()
    store = SandboxStore(seed=seed, orders=orders, rate_per_min=0.0, malformed_rate=malformed)
    # Shopify Plus rate limits (1,000 points/s): the demo should take seconds, not minutes.
    with SandboxServer(store, faults=faults, timeout_fault_s=1.5, restore_rate=1000.0, bucket_size=10_000,
                       seed=seed) as sandbox:
        settings = base.model_copy(update={"shopify_url": sandbox.url, "shop_domain": sandbox.shop_domain,
                                           "shopify_timeout_s": 1.0})
        ensure_dagster_home(settings)
        instance = DagsterInstance.get()
        # A fresh sandbox is a new store whose history predates any earlier demo's high-water mark.
        Warehouse(settings.resolved_warehouse_url).reset_high_water_mark(settings.shop_domain)
        first = run_ingestion(settings, instance)
        store.advance(40)  # edits, captures, refunds, fulfillments, cancellations, new orders
        second = run_ingestion(settings, instance)
        models = run_warehouse_models(settings, instance)
        stats = dict(store.stats)
    text = _demo_text(settings, orders, seed, malformed, faults, first, second, models, stats)
    return {"command": "demo", "success": first["success"] and second["success"] and models["success"],
            "polls": [first, second], "dbt": models, "warehouse": settings.resolved_warehouse_url,
            "dagster_home": str(settings.dagster_home), "text": text}


def _demo_text(settings: OmsSettings, orders: int, seed: int, malformed: float, faults: float,
               first: dict[str, Any], second: dict[str, Any], models: dict[str, Any],
               stats: dict[str, Any]) -> str:
    def poll_line(label: str, poll: dict[str, Any]) -> str:
        checks = ", ".join(f"{name} {'passed' if ok else 'FAILED'}" for name, ok in poll["checks"].items())
        return (f"{label}: {poll['events_landed']} order versions landed ({poll['events_already_landed']} seen "
                f"before), {poll['orders_written']} orders written, {poll['quarantined']} quarantined; "
                f"{poll['requests']} requests, {poll['retries']} retried, {poll['throttled_answers']} throttled; "
                f"checks: {checks or 'none ran'}")

    reasons = first["quarantine_reasons"] | {
        k: first["quarantine_reasons"].get(k, 0) + v for k, v in second["quarantine_reasons"].items()}
    lines = [
        f"oms demo: sandbox store {settings.shop_domain} ({orders} orders, seed {seed}, "
        f"{malformed:.0%} malformed, {faults:.0%} of requests faulted)",
        poll_line("poll 1", first),
        poll_line("poll 2 (after 40 store events)", second),
        "quarantined by field: " + (", ".join(f"{k} {v}" for k, v in reasons.items()) or "none"),
        f"dbt: {len(models['models'])} models built, {models['tests_passed']}/{models['tests']} tests passed",
        "sandbox faults injected: " + (", ".join(
            f"{k.removeprefix('fault_')} {v}" for k, v in sorted(stats.items()) if k.startswith("fault_")) or "none"),
        "store events between polls: " + ", ".join(
            f"{k.removeprefix('event_')} {v}" for k, v in sorted(stats.items()) if k.startswith("event_")),
        f"warehouse: {settings.resolved_warehouse_url}",
        f"Dagster instance: {settings.dagster_home} (SQLite)",
        "open the UI: oms ui   (Dagster UI with the sandbox and the sensor; then http://127.0.0.1:3000)",
        f"result: {'OK' if first['success'] and second['success'] and models['success'] else 'FAILED'}",
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
        "peak_rss_mb": _peak_rss_mb(),
    }


def bench_routing(*, orders: int, locations: int, services: int, seed: int, time_limit_s: float) -> dict[str, Any]:
    """Route a generated batch with the MILP optimizer and the greedy baseline; the figures."""
    from oms_pipeline.domain.routing import generate_instance, plan_fulfillment, plan_greedy

    batch = generate_instance(orders, locations, services, seed)
    greedy = plan_greedy(batch)
    started = time.perf_counter()
    plan = plan_fulfillment(batch, time_limit_s=time_limit_s)
    seconds = time.perf_counter() - started
    bound = plan.solver.lower_bound
    shipments_per_order = Counter(s.order_id for s in plan.shipments)
    split = sum(1 for n in shipments_per_order.values() if n > 1) / max(1, orders)
    return {
        "bench": "route", "orders": orders, "locations": locations, "services": services,
        "seconds": round(seconds, 3), "status": plan.solver.status, "total_cost": round(plan.total_cost, 2),
        "greedy_cost": round(greedy.total_cost, 2),
        "lower_bound": None if bound is None else round(bound, 2),
        "gap_to_bound": None if bound is None else round((plan.total_cost - bound) / plan.total_cost, 5),
        "saved_vs_greedy": round(1 - plan.total_cost / greedy.total_cost, 5) if greedy.total_cost else 0.0,
        "split_rate": round(split, 5),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
