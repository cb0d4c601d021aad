"""The ``oms`` application: its command groups, and the commands that run the pipeline (migrate, ingest,
demo, ui, doctor, the sandbox). Operator commands, file contracts and benches add themselves to the
groups from their own modules (``oms_pipeline.cli`` imports them)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Annotated

import typer

from oms_pipeline.cli.choices import ShopifyApi
from oms_pipeline.cli.output import deployment_settings, emit
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
    api: Annotated[ShopifyApi | None, typer.Option(help="The Admin API to poll (default: OMS_SHOPIFY_API).")] = None,
) -> None:
    """Poll the store named by the settings once, with the same Dagster job the sensor runs
    (``process_orders``: fetch, validate, decide, write back).

    Prints one JSON line: the run, events landed, orders written, quarantined, decisions, writes.
    """
    if not once:
        raise typer.BadParameter("only --once is supported here; the Dagster sensor polls continuously "
                                 "(oms ui).", param_hint="--once")
    settings = deployment_settings(**({"shopify_api": api.value} if api else {}))
    from oms_pipeline.cli.jobs import run_order_flow  # after the settings passed: it imports all of Dagster

    ensure_dagster_home(settings)
    summary = run_order_flow(settings)
    emit({"command": "ingest", "shop_domain": settings.shop_domain, **summary})
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
    """Check this deployment, one line per check with the fix: settings (no sandbox value against a real
    store), the Dagster instance, the warehouse reachable and migrated, no intended write unsent too long or
    waiting because its answer was lost, the store reachable with the access scopes the enabled workflows
    need, and the 3PL, carrier rates, Slack and Zendesk reachable. Exit 1 when any check fails. Reads only."""
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
    from oms_pipeline.cli.demo import run_demo

    summary = run_demo(orders=orders, seed=seed, malformed=malformed, faults=faults)
    typer.echo(summary.pop("text"))
    emit(summary)


@app.command()
def ui(
    port: int = typer.Option(3000, help="Port of the Dagster UI."),
    sandbox: Annotated[bool | None, typer.Option(
        "--sandbox/--no-sandbox", help="Also serve the sandbox store and point the code location at it "
        "(default: when the configured store is the loopback sandbox).")] = None,
    sandbox_port: int = typer.Option(8787, help="Port of the sandbox store."),
) -> None:
    """Open the Dagster UI (``dagster dev``) on this code location, with the sensor running."""
    settings = OmsSettings()
    if sandbox is None:
        sandbox = settings.store_is_loopback_sandbox
    if not sandbox:
        settings = deployment_settings()
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

