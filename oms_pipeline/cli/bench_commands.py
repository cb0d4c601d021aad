"""``oms bench``: each benchmark prints its figures, one a line, and ends with one JSON line. The
benchmarks themselves are in ``cli/benches.py`` (imported when a bench runs, so ``oms --help`` stays quick)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oms_pipeline.cli.app import bench_app
from oms_pipeline.cli.choices import ShopifyApi
from oms_pipeline.cli.output import print_figures


@bench_app.command("ingest")
def bench_ingest(
    orders: int = typer.Option(10000, help="Orders in the sandbox store."),
    api: Annotated[ShopifyApi, typer.Option(help="The Admin API to poll.")] = ShopifyApi.GRAPHQL,
    seed: int = typer.Option(1, help="Sandbox seed."),
) -> None:
    """Ingest N orders from a loopback sandbox through the full job; last line is JSON figures."""
    from oms_pipeline.cli.benches import bench_ingestion

    print_figures(bench_ingestion(orders=orders, api=api.value, seed=seed))


@bench_app.command("route")
def bench_route(
    orders: int = typer.Option(1000, help="Orders in the batch."),
    locations: int = typer.Option(5, help="Locations (1..8)."),
    services: int = typer.Option(3, help="Carrier services (1..4)."),
    seed: int = typer.Option(1, help="Instance seed."),
    time_limit: float = typer.Option(10.0, "--time-limit", help="Solver time limit in seconds."),
) -> None:
    """Route a generated batch with the optimizer and the greedy baseline; last line is JSON figures."""
    from oms_pipeline.cli.benches import bench_routing

    print_figures(bench_routing(orders=orders, locations=locations, services=services, seed=seed,
                                 time_limit_s=time_limit))


@bench_app.command("decide")
def bench_decide_command(
    orders: int = typer.Option(10000, help="Orders to decide."),
    seed: int = typer.Option(1, help="Generator seed."),
) -> None:
    """Decide N generated orders (state machine, triage, batch plan, intended writes; no network)."""
    from oms_pipeline.cli.benches import bench_decide

    print_figures(bench_decide(orders=orders, seed=seed))


@bench_app.command("writeback")
def bench_writeback_command(
    orders: int = typer.Option(2000, help="Orders in the sandbox store."),
    faults: float = typer.Option(0.2, help="Fraction of sandbox requests answered 429/5xx/timeout."),
    seed: int = typer.Option(1, help="Sandbox seed."),
) -> None:
    """Write N orders' decisions back to a loopback sandbox with faults and its rate limit on."""
    from oms_pipeline.cli.benches import bench_writeback

    print_figures(bench_writeback(orders=orders, faults=faults, seed=seed))


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

    from oms_pipeline.cli.benches import bench_crash

    with tempfile.TemporaryDirectory(prefix="oms-crash-") as tmp:
        print_figures(bench_crash(kills=kills, orders=orders, seed=seed, faults=faults, workdir=Path(tmp)))


@bench_app.command("notes")
def bench_notes_command(notes: int = typer.Option(10000, help="Notes to parse.")) -> None:
    """Parse N corpus notes with the local engine; last line is JSON (ms_per_note, macro_f1, peak_rss_mb)."""
    from oms_pipeline.cli.benches import bench_notes, peak_rss_mb

    print_figures({"bench": "notes", **bench_notes(notes), "peak_rss_mb": peak_rss_mb()})


@bench_app.command("fraud")
def bench_fraud_command(
    orders: int = typer.Option(100000, help="Orders in the labelled history."),
    seed: int = typer.Option(0, help="History seed."),
) -> None:
    """Train and score on a seeded labelled history; last line is JSON figures."""
    from oms_pipeline.cli.benches import bench_fraud, peak_rss_mb

    print_figures({"bench": "fraud", **bench_fraud(orders, seed), "peak_rss_mb": peak_rss_mb()})


@bench_app.command("reconcile")
def bench_reconcile_command(
    orders: int = typer.Option(20000, "--orders", help="Orders to generate (with planted problems)."),
    seed: int = typer.Option(0, help="Generator seed."),
) -> None:
    """Reconcile N generated orders through the dbt models; last line is JSON
    (seconds, orders_per_s, variances, peak_rss_mb)."""
    from oms_pipeline.cli.benches import bench_reconcile, peak_rss_mb

    # peak_rss_mb is this process (generation, parsing, landing); dbt runs in a child process.
    print_figures({"bench": "reconcile", **bench_reconcile(orders, seed), "peak_rss_mb": peak_rss_mb()})
