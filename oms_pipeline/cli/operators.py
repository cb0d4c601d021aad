"""Operator commands: release holds, work the review queue, and look after the store's fraud models.

Each reads the warehouse as it is (it does not migrate it: `oms migrate` does) and writes through the
services and the gateway, audited as the operator named with ``--by``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from oms_pipeline.cli.app import fraud_app, holds_app, review_app
from oms_pipeline.cli.choices import ReviewOutcome
from oms_pipeline.cli.output import deployment_settings, emit


def _operator_context():
    """Settings and the warehouse for an operator command."""
    from oms_pipeline.storage.warehouse import MIGRATIONS, Warehouse

    settings = deployment_settings()
    warehouse = Warehouse(settings.resolved_warehouse_url)
    # Reading is not a reason to change the schema: an old warehouse is named, `oms migrate` migrates it.
    version, latest = warehouse.schema_version(), MIGRATIONS[-1][0]
    if version != latest:
        raise _operator_error(ValueError(f"the warehouse is at schema version {version or 'none'} and this "
                                         f"version of oms needs {latest}: run `oms migrate` first"))
    return settings, warehouse


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

    from oms_pipeline.resources import gateway_from_settings
    from oms_pipeline.services.operators import OperatorError, release_holds

    settings, warehouse = _operator_context()
    try:
        with gateway_from_settings(settings, warehouse) as gateway:
            emit(release_holds(warehouse, gateway, settings.shop_domain, order, by, why, datetime.now(UTC), handle))
    except OperatorError as exc:
        raise _operator_error(exc) from exc


@review_app.command("list")
def review_list() -> None:
    """Suggestions waiting for approval, one JSON line each."""
    from oms_pipeline.services.operators import pending_review_rows

    settings, warehouse = _operator_context()
    for row in pending_review_rows(warehouse, settings.shop_domain):
        emit(row)


@review_app.command("approve")
def review_approve(
    review_id: str = typer.Argument(..., help="The review id (oms review list)."),
    by: str = typer.Option(..., "--by", help="Your name: recorded with the approval."),
    note: str = typer.Option("", "--note", help="Why, for the record."),
) -> None:
    """Approve a queued suggestion: the gateway carries it out, audited as your action."""
    from oms_pipeline.resources import gateway_from_settings
    from oms_pipeline.services.operators import OperatorError, approve_review

    settings, warehouse = _operator_context()
    try:
        with gateway_from_settings(settings, warehouse) as gateway:
            emit(approve_review(warehouse, gateway, review_id, by, note))
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

    _settings, warehouse = _operator_context()
    try:
        emit(reject_review(warehouse, review_id, by, note))
    except OperatorError as exc:
        raise _operator_error(exc) from exc


@fraud_app.command("models")
def fraud_models() -> None:
    """The store's fraud models, newest first, one JSON line each (version, status, metrics, window)."""
    settings, warehouse = _operator_context()
    for m in warehouse.fraud.models(settings.shop_domain):
        emit({"version": m.version, "status": m.status, "trained_at": m.trained_at.isoformat(),
               "window": [m.window_start, m.window_end], "threshold": m.threshold, "capacity": m.capacity,
               **{k: m.metrics.get(k) for k in ("roc_auc", "pr_auc", "precision_at_capacity", "recall_at_capacity")},
               "check_passed": (m.check_result or {}).get("passed"), "path": m.path})


@fraud_app.command("retrain")
def fraud_retrain() -> None:
    """Land disputes, train a model and promote it if it passes its check (the nightly job, now)."""
    from oms_pipeline.cli.jobs import run_fraud_training

    summary = run_fraud_training(deployment_settings())
    emit(summary)
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

    settings, warehouse = _operator_context()
    try:
        before, after = rollback(warehouse, settings.shop_domain, by, datetime.now(UTC), to)
    except FraudFlowError as exc:
        raise _operator_error(exc) from exc
    emit({"rolled_back_from": before, "active": after, "by": by})


@fraud_app.command("review")
def fraud_review(
    order: Annotated[str, typer.Argument(help="Order id or name (#1042).")],
    outcome: Annotated[ReviewOutcome, typer.Option("--outcome", help="Your verdict on the order.")],
    by: Annotated[str, typer.Option("--by", help="Your name: recorded with the verdict.")],
    note: Annotated[str, typer.Option("--note", help="Why, for the record.")] = "",
) -> None:
    """Record your verdict on an order: a label the next fraud model learns from."""
    from datetime import UTC, datetime

    settings, warehouse = _operator_context()
    order_id = warehouse.decisions.find_order(settings.shop_domain, order)
    if order_id is None:
        raise _operator_error(ValueError(f"order {order}: not found in {settings.shop_domain}"))
    try:
        warehouse.fraud.add_review_outcome(settings.shop_domain, order_id, outcome.value, by, datetime.now(UTC),
                                           source="oms fraud review", note=note or None)
    except ValueError as exc:
        raise _operator_error(exc) from exc
    emit({"order_id": order_id, "outcome": outcome.value, "by": by})
