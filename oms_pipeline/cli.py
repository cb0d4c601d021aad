"""``oms``: the command line of oms-pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import typer

from oms_pipeline.settings import OmsSettings, ensure_dagster_home

app = typer.Typer(help="oms-pipeline: order operations for eCommerce teams, on Dagster.", no_args_is_help=True)
sandbox_app = typer.Typer(help="The local sandbox that emulates the store's APIs.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks: each prints figures and ends with one JSON line.", no_args_is_help=True)
holds_app = typer.Typer(help="Holds on orders: release them as an operator.", no_args_is_help=True)
review_app = typer.Typer(help="The review queue: suggestions waiting for an operator.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(bench_app, name="bench")
fraud_app = typer.Typer(help="The fraud model: on files (train, score) and in the store (models, retrain, "
                             "rollback, review).", no_args_is_help=True)
notes_app = typer.Typer(help="Order note parsing on files.", no_args_is_help=True)
app.add_typer(holds_app, name="holds")
app.add_typer(fraud_app, name="fraud")
app.add_typer(notes_app, name="notes")
app.add_typer(review_app, name="review")


def _emit(summary: dict[str, Any]) -> None:
    typer.echo(json.dumps(summary, default=str, sort_keys=False))


@app.command()
def migrate() -> None:
    """Create or migrate the warehouse schema at OMS_WAREHOUSE_URL."""
    from oms_pipeline.storage.warehouse import Warehouse

    settings = OmsSettings()
    applied = Warehouse(settings.resolved_warehouse_url).migrate()
    typer.echo(f"warehouse {settings.resolved_warehouse_url}: applied migrations {applied or 'none (up to date)'}")


@app.command()
def ingest(
    once: bool = typer.Option(False, "--once", help="One poll pass, then exit (the only mode for now)."),
    api: str = typer.Option(None, help="graphql or rest (default: OMS_SHOPIFY_API)."),
) -> None:
    """Poll the store named by the settings once, with the same Dagster job the sensor runs
    (``process_orders``: fetch, validate, decide, write back).

    Prints one JSON line: the run, events landed, orders written, quarantined, decisions, writes.
    """
    if not once:
        raise typer.BadParameter("only --once is supported here; the Dagster sensor polls continuously "
                                 "(oms ui).", param_hint="--once")
    from oms_pipeline.runner import run_order_flow

    settings = OmsSettings(**({"shopify_api": api} if api else {}))
    ensure_dagster_home(settings)
    summary = run_order_flow(settings)
    _emit({"command": "ingest", "shop_domain": settings.shop_domain, **summary})
    if not summary["success"]:
        raise typer.Exit(1)


@sandbox_app.command("serve")
def sandbox_serve(
    port: int = typer.Option(8787, help="TCP port on 127.0.0.1."),
    seed: int = typer.Option(0, help="Seed of the order generator."),
    orders: int = typer.Option(200, help="Orders present at start."),
    rate_per_min: float = typer.Option(60.0, "--rate-per-min", help="New order events per minute."),
    faults: float = typer.Option(0.0, help="Fraction of requests answered 429/500/502/timeout."),
    malformed: float = typer.Option(0.03, help="Fraction of orders that are malformed."),
    token: str = typer.Option("shpat_sandbox_token", help="The Admin API token it accepts."),
    history_orders: int = typer.Option(4000, help="Older, shipped orders with a fraud process and chargebacks."),
    history_days: int = typer.Option(120, help="Days those older orders span."),
    fraud_rate: float = typer.Option(0.04, help="Share of the older orders that are fraud."),
) -> None:
    """Serve a Shopify Admin API (2025-01) emulation: GraphQL and REST orders, Shopify Payments disputes,
    throttling, faults."""
    from oms_pipeline.sandbox.server import serve_forever

    serve_forever(port=port, seed=seed, orders=orders, rate_per_min=rate_per_min, faults=faults,
                  malformed_rate=malformed, token=token, history_orders=history_orders,
                  history_days=history_days, fraud_rate=fraud_rate)


@app.command()
def doctor() -> None:
    """Check this deployment: the warehouse reachable and migrated, no intended write left unsent too long,
    none waiting on an operator because its answer was lost. One line per check, with the fix; exit 1 when
    any check fails. Reads only."""
    from oms_pipeline.services.doctor import check_deployment

    checks = check_deployment(OmsSettings())
    for check in checks:
        typer.echo(check.line())
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command()
def demo(
    orders: int = typer.Option(300, help="Orders the sandbox holds before the first poll."),
    seed: int = typer.Option(7, help="Sandbox seed."),
    malformed: float = typer.Option(0.04, help="Fraction of malformed orders."),
    faults: float = typer.Option(0.05, help="Fraction of sandbox requests that fail (retried)."),
) -> None:
    """The main job on embedded defaults: sandbox store -> ingestion job -> dbt, then a summary."""
    from oms_pipeline.runner import run_demo

    summary = run_demo(orders=orders, seed=seed, malformed=malformed, faults=faults)
    typer.echo(summary.pop("text"))
    _emit(summary)


@app.command()
def ui(
    port: int = typer.Option(3000, help="Port of the Dagster UI."),
    sandbox: bool = typer.Option(True, help="Also serve the sandbox store and point the code location at it."),
    sandbox_port: int = typer.Option(8787, help="Port of the sandbox store."),
) -> None:
    """Open the Dagster UI (``dagster dev``) on this code location, with the sensor running."""
    settings = OmsSettings()
    ensure_dagster_home(settings)
    env = {**os.environ, "OMS_SENSOR_AUTOSTART": "1"}
    children: list[subprocess.Popen] = []
    if sandbox:
        from oms_pipeline.sandbox.network import write_sandbox_network

        children.append(subprocess.Popen([sys.executable, "-m", "oms_pipeline.cli", "sandbox", "serve",
                                          "--port", str(sandbox_port)]))
        env["OMS_SHOPIFY_URL"] = f"http://127.0.0.1:{sandbox_port}"
        if settings.network_file is None:  # the sandbox store ships from the sandbox's network
            env["OMS_NETWORK_FILE"] = str(write_sandbox_network(settings.data_dir.resolve() / "sandbox_network.json"))
        time.sleep(1.5)
    try:
        subprocess.run(["dagster", "dev", "-m", "oms_pipeline.definitions", "-p", str(port)], env=env, check=False)
    finally:
        for child in children:
            child.terminate()


@bench_app.command("ingest")
def bench_ingest(
    orders: int = typer.Option(10000, help="Orders in the sandbox store."),
    api: str = typer.Option("graphql", help="graphql or rest."),
    seed: int = typer.Option(1, help="Sandbox seed."),
) -> None:
    """Ingest N orders from a loopback sandbox through the full job; last line is JSON figures."""
    from oms_pipeline.runner import bench_ingestion

    _print_figures(bench_ingestion(orders=orders, api=api, seed=seed))


@app.command()
def route(
    instance: Path = typer.Option(..., "--instance", help="INSTANCE.json (format in README, `oms route`)."),
    out: Path = typer.Option(..., "--out", help="Where to write PLAN.json."),
    time_limit: float = typer.Option(10.0, "--time-limit", help="Solver time limit in seconds."),
) -> None:
    """Route a batch of orders at least cost (MILP, HiGHS) and write PLAN.json; exit 2 on bad input."""
    from pydantic import ValidationError

    from oms_pipeline.domain.routing import describe_validation_error, parse_instance, plan_fulfillment

    try:
        batch = parse_instance(instance.read_bytes())
    except OSError as exc:
        typer.echo(f"--instance: cannot read {instance}: {exc}", err=True)
        raise typer.Exit(2) from exc
    except ValidationError as exc:
        typer.echo(f"{instance}: invalid instance\n{describe_validation_error(exc)}", err=True)
        raise typer.Exit(2) from exc
    plan = plan_fulfillment(batch, time_limit_s=time_limit)
    out.write_text(plan.model_dump_json(indent=2))
    typer.echo(f"{len(plan.shipments)} shipments, {len(plan.unfulfilled)} unfulfilled lines, total cost "
               f"{plan.total_cost:.2f}, solver {plan.solver.status} gap {plan.solver.gap} in {plan.solver.seconds}s")


@bench_app.command("route")
def bench_route(
    orders: int = typer.Option(1000, help="Orders in the batch."),
    locations: int = typer.Option(5, help="Locations (1..8)."),
    services: int = typer.Option(3, help="Carrier services (1..4)."),
    seed: int = typer.Option(1, help="Instance seed."),
    time_limit: float = typer.Option(10.0, "--time-limit", help="Solver time limit in seconds."),
) -> None:
    """Route a generated batch with the optimizer and the greedy baseline; last line is JSON figures."""
    from oms_pipeline.runner import bench_routing

    _print_figures(bench_routing(orders=orders, locations=locations, services=services, seed=seed,
                                 time_limit_s=time_limit))


def _operator_context():
    """Settings, warehouse and decisions resource for an operator command."""
    from oms_pipeline.resources import ShopifyResource, decisions_resource, resources_from_settings
    from oms_pipeline.storage.warehouse import Warehouse

    settings = OmsSettings()
    warehouse = Warehouse(settings.resolved_warehouse_url)
    warehouse.migrate()
    shopify: ShopifyResource = resources_from_settings(settings)["shopify"]  # type: ignore[assignment]
    return settings, warehouse, shopify, decisions_resource(settings)


def _operator_error(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


@holds_app.command("release")
def holds_release(
    order: str = typer.Argument(..., help="Order id or name (#1042)."),
    by: str = typer.Option(..., "--by", help="Your name: recorded with the release."),
    why: str = typer.Option(..., "--why", help="Why the hold can go: recorded with the release."),
    handle: str = typer.Option(None, "--handle", help="Only the hold with this handle (default: all)."),
) -> None:
    """Release an order's holds as an operator (the only way a fraud hold is ever released)."""
    from datetime import UTC, datetime

    from oms_pipeline.services.operators import OperatorError, release_holds

    settings, warehouse, shopify, decisions = _operator_context()
    try:
        with decisions.gateway(warehouse, shopify) as gateway:
            _emit(release_holds(warehouse, gateway, settings.shop_domain, order, by, why, datetime.now(UTC), handle))
    except OperatorError as exc:
        raise _operator_error(exc) from exc


@review_app.command("list")
def review_list() -> None:
    """Suggestions waiting for approval, one JSON line each."""
    from oms_pipeline.services.operators import pending_review_rows

    settings, warehouse, _shopify, _decisions = _operator_context()
    for row in pending_review_rows(warehouse, settings.shop_domain):
        _emit(row)


@review_app.command("approve")
def review_approve(
    review_id: str = typer.Argument(..., help="The review id (oms review list)."),
    by: str = typer.Option(..., "--by", help="Your name: recorded with the approval."),
    note: str = typer.Option("", "--note", help="Why, for the record."),
) -> None:
    """Approve a queued suggestion: the gateway carries it out, audited as your action."""
    from oms_pipeline.services.operators import OperatorError, approve_review

    _settings, warehouse, shopify, decisions = _operator_context()
    try:
        with decisions.gateway(warehouse, shopify) as gateway:
            _emit(approve_review(warehouse, gateway, review_id, by, note))
    except OperatorError as exc:
        raise _operator_error(exc) from exc


@review_app.command("reject")
def review_reject(
    review_id: str = typer.Argument(..., help="The review id (oms review list)."),
    by: str = typer.Option(..., "--by", help="Your name."),
    note: str = typer.Option(..., "--note", help="Why not."),
) -> None:
    """Reject a queued suggestion: nothing is written."""
    from oms_pipeline.services.operators import OperatorError, reject_review

    _settings, warehouse, _shopify, _decisions = _operator_context()
    try:
        _emit(reject_review(warehouse, review_id, by, note))
    except OperatorError as exc:
        raise _operator_error(exc) from exc


@bench_app.command("decide")
def bench_decide_command(
    orders: int = typer.Option(10000, help="Orders to decide."),
    seed: int = typer.Option(1, help="Generator seed."),
) -> None:
    """Decide N generated orders (state machine, triage, batch plan, intended writes; no network)."""
    from oms_pipeline.runner import bench_decide

    _print_figures(bench_decide(orders=orders, seed=seed))


@bench_app.command("writeback")
def bench_writeback_command(
    orders: int = typer.Option(2000, help="Orders in the sandbox store."),
    faults: float = typer.Option(0.2, help="Fraction of sandbox requests answered 429/5xx/timeout."),
    seed: int = typer.Option(1, help="Sandbox seed."),
) -> None:
    """Write N orders' decisions back to a loopback sandbox with faults and its rate limit on."""
    from oms_pipeline.runner import bench_writeback

    _print_figures(bench_writeback(orders=orders, faults=faults, seed=seed))


@bench_app.command("crash")
def bench_crash_command(
    kills: int = typer.Option(20, help="Random SIGKILLs of the order flow (after one kill per targeted write)."),
    orders: int = typer.Option(120, help="Orders in the sandbox store."),
    faults: float = typer.Option(0.05, help="Fraction of sandbox requests answered 429/5xx/timeout."),
    seed: int = typer.Option(7, help="Seed of the store and of the kill moments."),
) -> None:
    """The crash drill: `oms ingest --once` SIGKILLed (its whole process group) at random moments and
    right after chosen writes, then run to completion; the store checked against the decisions."""
    import tempfile

    from oms_pipeline.crash_drill import bench_crash

    with tempfile.TemporaryDirectory(prefix="oms-crash-") as tmp:
        _print_figures(bench_crash(kills=kills, orders=orders, seed=seed, faults=faults, workdir=Path(tmp)))


@fraud_app.command("train")
def fraud_train(
    orders: Path = typer.Option(..., "--orders", help="ORDERS.jsonl: Shopify REST order objects, by created_at."),
    labels: Path = typer.Option(..., "--labels", help="LABELS.csv: header order_id,label (1 = fraud)."),
    model_out: Path = typer.Option(..., "--model-out", help="Directory for the model and its manifest."),
    capacity: float = typer.Option(0.02, help="Review capacity: the share of orders flagged for review."),
) -> None:
    """Train the fraud model (time-ordered split, calibrated); prints its metrics as JSON."""
    from oms_pipeline.offline.fraud import train_from_files

    summary = train_from_files(orders, labels, model_out, capacity=capacity)
    _report_file_errors(summary.get("errors") or [])
    _emit({k: v for k, v in summary.items() if k != "errors"})


@fraud_app.command("score")
def fraud_score(
    model: Path = typer.Option(..., "--model", help="A model directory written by `oms fraud train`."),
    orders: Path = typer.Option(..., "--orders", help="ORDERS.jsonl to score."),
    out: Path = typer.Option(..., "--out", help="SCORES.csv: order_id,fraud_score,decision,reasons."),
) -> None:
    """Score orders with a trained model; history features come from training and earlier lines."""
    from oms_pipeline.offline.fraud import score_files

    summary = score_files(model, orders, out)
    _report_file_errors(summary.get("errors") or [])
    _emit({k: v for k, v in summary.items() if k != "errors"})


@fraud_app.command("models")
def fraud_models() -> None:
    """The store's fraud models, newest first, one JSON line each (version, status, metrics, window)."""
    settings, warehouse, _shopify, _decisions = _operator_context()
    for m in warehouse.fraud.models(settings.shop_domain):
        _emit({"version": m.version, "status": m.status, "trained_at": m.trained_at.isoformat(),
               "window": [m.window_start, m.window_end], "threshold": m.threshold, "capacity": m.capacity,
               **{k: m.metrics.get(k) for k in ("roc_auc", "pr_auc", "precision_at_capacity", "recall_at_capacity")},
               "check_passed": (m.check_result or {}).get("passed"), "path": m.path})


@fraud_app.command("retrain")
def fraud_retrain() -> None:
    """Land disputes, train a model and promote it if it passes its check (the nightly job, now)."""
    from oms_pipeline.runner import run_fraud_training

    summary = run_fraud_training(OmsSettings())
    _emit(summary)
    if not summary["success"]:
        raise typer.Exit(1)


@fraud_app.command("rollback")
def fraud_rollback(
    by: str = typer.Option(..., "--by", help="Your name: recorded with the change."),
    to: str = typer.Option(None, "--to", help="The version to make active (default: the one active before)."),
) -> None:
    """Make an earlier fraud model the one that scores orders again."""
    from datetime import UTC, datetime

    from oms_pipeline.services.fraud import FraudFlowError, rollback

    settings, warehouse, _shopify, _decisions = _operator_context()
    try:
        before, after = rollback(warehouse, settings.shop_domain, by, datetime.now(UTC), to)
    except FraudFlowError as exc:
        raise _operator_error(exc) from exc
    _emit({"rolled_back_from": before, "active": after, "by": by})


@fraud_app.command("review")
def fraud_review(
    order: str = typer.Argument(..., help="Order id or name (#1042)."),
    outcome: str = typer.Option(..., "--outcome", help="fraud or legitimate."),
    by: str = typer.Option(..., "--by", help="Your name: recorded with the verdict."),
    note: str = typer.Option("", "--note", help="Why, for the record."),
) -> None:
    """Record your verdict on an order: a label the next fraud model learns from."""
    from datetime import UTC, datetime

    settings, warehouse, _shopify, _decisions = _operator_context()
    order_id = warehouse.decisions.find_order(settings.shop_domain, order)
    if order_id is None:
        raise _operator_error(ValueError(f"order {order}: not found in {settings.shop_domain}"))
    try:
        warehouse.fraud.add_review_outcome(settings.shop_domain, order_id, outcome, by, datetime.now(UTC),
                                           source="oms fraud review", note=note or None)
    except ValueError as exc:
        raise _operator_error(exc) from exc
    _emit({"order_id": order_id, "outcome": outcome, "by": by})


@notes_app.command("parse")
def notes_parse(
    in_path: Path = typer.Option(..., "--in", help='NOTES.jsonl: {"id", "note", "created_at"} per line.'),
    out: Path = typer.Option(..., "--out", help="TAGS.jsonl: tags, deliver_by, hold_until, engine, confidence."),
    engine: str = typer.Option("auto", help="local, anthropic, or auto (anthropic when ANTHROPIC_API_KEY is set)."),
) -> None:
    """Parse order notes into tags and dates; bad lines are reported on stderr and skipped."""
    from oms_pipeline.offline.notes import parse_notes_file

    summary = parse_notes_file(in_path, out, engine)
    _report_file_errors(summary.get("errors") or [])
    _emit({k: v for k, v in summary.items() if k != "errors"})


@bench_app.command("notes")
def bench_notes_command(notes: int = typer.Option(10000, help="Notes to parse.")) -> None:
    """Parse N corpus notes with the local engine; last line is JSON (ms_per_note, macro_f1, peak_rss_mb)."""
    from oms_pipeline.offline.notes import bench_notes
    from oms_pipeline.runner import peak_rss_mb

    _print_figures({"bench": "notes", **bench_notes(notes), "peak_rss_mb": peak_rss_mb()})


@bench_app.command("fraud")
def bench_fraud_command(
    orders: int = typer.Option(100000, help="Orders in the labelled history."),
    seed: int = typer.Option(0, help="History seed."),
) -> None:
    """Train and score on a seeded labelled history; last line is JSON figures."""
    from oms_pipeline.offline.fraud import bench_fraud
    from oms_pipeline.runner import peak_rss_mb

    _print_figures({"bench": "fraud", **bench_fraud(orders, seed), "peak_rss_mb": peak_rss_mb()})


def _report_file_errors(errors: list[dict[str, Any]]) -> None:
    """Skipped input lines, one a line on stderr, each naming its line number and field."""
    for error in errors[:50]:
        typer.echo(f"line {error.get('line')}: {error.get('field')}: {error.get('error')}", err=True)
    if len(errors) > 50:
        typer.echo(f"... and {len(errors) - 50} more skipped lines", err=True)


def _print_figures(figures: dict[str, Any]) -> None:
    """A bench's figures, one a line, then all of them as the last line in JSON."""
    for key, value in figures.items():
        typer.echo(f"{key:>24}: {value}")
    _emit(figures)



@app.command()
def reconcile(
    orders: Path = typer.Option(..., "--orders", help="ORDERS.jsonl: Shopify REST order objects, one a line."),
    shipments: Path = typer.Option(..., "--shipments", help="SHIPMENTS.json: a ShipStation GET /shipments body."),
    invoices: Path = typer.Option(..., "--invoices", help="INVOICES.csv: carrier invoice lines."),
    as_of: str = typer.Option(..., "--as-of", help="YYYY-MM-DD: the day promises are judged on."),
    out: Path = typer.Option(..., "--out", help="VARIANCES.csv: order_id,variance_type,amount,detail."),
    report_dir: Path | None = typer.Option(
        None, "--report-dir", help="Also write the finance report (HTML, PDF, variances CSV) into DIR."),
) -> None:
    """Reconcile store orders, 3PL shipments and carrier invoices; write one row per variance."""
    from datetime import date

    from oms_pipeline.offline.reconcile import reconcile_files

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {as_of!r}", param_hint="--as-of") from None
    try:
        if report_dir is None:
            summary = reconcile_files(orders, shipments, invoices, day, out)
        else:
            from oms_pipeline.reporting.marts import reconcile_with_report

            summary = reconcile_with_report(orders, shipments, invoices, day, out, report_dir)
    except (ValueError, RuntimeError) as exc:
        typer.echo(f"reconcile failed: {exc}", err=True)
        raise typer.Exit(1) from None
    _report_file_errors(summary.get("errors") or [])
    _emit({**{k: v for k, v in summary.items() if k != "errors"}, "skipped": len(summary.get("errors") or [])})


@bench_app.command("reconcile")
def bench_reconcile_command(
    orders: int = typer.Option(20000, "--orders", help="Orders to generate (with planted problems)."),
    seed: int = typer.Option(0, help="Generator seed."),
) -> None:
    """Reconcile N generated orders through the dbt models; last line is JSON
    (seconds, orders_per_s, variances, peak_rss_mb)."""
    from oms_pipeline.offline.reconcile import bench_reconcile
    from oms_pipeline.runner import peak_rss_mb

    # peak_rss_mb is this process (generation, parsing, landing); dbt runs in a child process.
    _print_figures({"bench": "reconcile", **bench_reconcile(orders, seed), "peak_rss_mb": peak_rss_mb()})


if __name__ == "__main__":
    app()
