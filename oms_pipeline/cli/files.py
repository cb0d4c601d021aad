"""File contracts: commands that read documented files and write documented files (INSTANCE.json to
PLAN.json, NOTES.jsonl to TAGS.jsonl, ORDERS.jsonl and LABELS.csv to a model and SCORES.csv, orders,
shipments and invoices to VARIANCES.csv). Bad input is named by line and field; the logic lives in the
services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oms_pipeline.cli.app import app, fraud_app, notes_app
from oms_pipeline.cli.choices import NoteEngineChoice
from oms_pipeline.cli.output import emit, report_file_errors
from oms_pipeline.settings import OmsSettings


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


@fraud_app.command("train")
def fraud_train(
    orders: Path = typer.Option(..., "--orders", help="ORDERS.jsonl: Shopify REST order objects, by created_at."),
    labels: Path = typer.Option(..., "--labels", help="LABELS.csv: header order_id,label (1 = fraud)."),
    model_out: Path = typer.Option(..., "--model-out", help="Directory for the model and its manifest."),
    capacity: float = typer.Option(0.02, help="Review capacity: the share of orders flagged for review."),
) -> None:
    """Train the fraud model (time-ordered split, calibrated); prints its metrics as JSON."""
    from oms_pipeline.services.fraud_files import train_from_files

    summary = train_from_files(orders, labels, model_out, capacity=capacity)
    report_file_errors(summary.get("errors") or [])
    emit({k: v for k, v in summary.items() if k != "errors"})


@fraud_app.command("score")
def fraud_score(
    model: Path = typer.Option(..., "--model", help="A model directory written by `oms fraud train`."),
    orders: Path = typer.Option(..., "--orders", help="ORDERS.jsonl to score."),
    out: Path = typer.Option(..., "--out", help="SCORES.csv: order_id,fraud_score,decision,reasons."),
) -> None:
    """Score orders with a trained model; history features come from training and earlier lines."""
    from oms_pipeline.services.fraud_files import score_files

    summary = score_files(model, orders, out)
    report_file_errors(summary.get("errors") or [])
    emit({k: v for k, v in summary.items() if k != "errors"})


@notes_app.command("parse")
def notes_parse(
    in_path: Path = typer.Option(..., "--in", help='NOTES.jsonl: {"id", "note", "created_at"} per line.'),
    out: Path = typer.Option(..., "--out", help="TAGS.jsonl: tags, deliver_by, hold_until, engine, confidence."),
    engine: Annotated[NoteEngineChoice, typer.Option(
        help="The note parser (auto: anthropic when ANTHROPIC_API_KEY is set).")] = NoteEngineChoice.AUTO,
) -> None:
    """Parse order notes into tags and dates; bad lines are reported on stderr and skipped."""
    from oms_pipeline.services.note_model import note_models_dir
    from oms_pipeline.services.notes_files import parse_notes_file

    summary = parse_notes_file(in_path, out, engine.value, models_dir=note_models_dir(OmsSettings().data_dir))
    report_file_errors(summary.get("errors") or [])
    emit({k: v for k, v in summary.items() if k != "errors"})


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

    from oms_pipeline.services.reconcile_files import reconcile_files

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {as_of!r}", param_hint="--as-of") from None
    try:
        if report_dir is None:
            summary = reconcile_files(orders, shipments, invoices, day, out)
        else:
            from oms_pipeline.services.reconcile_files import reconcile_with_report

            summary = reconcile_with_report(orders, shipments, invoices, day, out, report_dir)
    except (ValueError, RuntimeError) as exc:
        typer.echo(f"reconcile failed: {exc}", err=True)
        raise typer.Exit(1) from None
    report_file_errors(summary.get("errors") or [])
    emit({**{k: v for k, v in summary.items() if k != "errors"}, "skipped": len(summary.get("errors") or [])})
