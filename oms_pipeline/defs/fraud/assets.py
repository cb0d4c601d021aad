"""Fraud assets: land disputes, train a candidate model, promote it if it passes, score new orders."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
import base64
from datetime import UTC, datetime

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from oms_pipeline.resources import FraudResource, ShopifyResource, WarehouseResource
from oms_pipeline.services.fraud import (
    FraudFlowError,
    judge_candidate,
    promote_passed_candidate,
    score_pending,
    train_candidate,
)

FRAUD_GROUP = "fraud"
SIGNALS_GROUP = "order_signals"


def _image(path) -> MetadataValue:
    # Inline, so the plot shows in the UI wherever the Dagster webserver runs.
    return MetadataValue.md(f"![{path.stem}](data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()})")


@asset(group_name=FRAUD_GROUP, kinds={"shopify"})
def payment_disputes(context: AssetExecutionContext, warehouse: WarehouseResource,
                     shopify: ShopifyResource) -> MaterializeResult:
    """Shopify Payments disputes of the store, landed whole on each run (they change status until
    finalized). A dispute with reason ``fraudulent`` that the merchant did not win is a fraud label
    for the order, known from the day the bank opened it."""
    wh = warehouse.open()
    with shopify.client() as client:
        disputes = list(client.iter_disputes())
    landing = wh.fraud.land_disputes(shopify.shop_domain, disputes, datetime.now(UTC))
    by_reason: dict[str, int] = {}
    for dispute in disputes:
        by_reason[str(dispute.get("reason"))] = by_reason.get(str(dispute.get("reason")), 0) + 1
    return MaterializeResult(metadata={"disputes": landing.seen, "new": landing.new, "changed": landing.changed,
                                       "by_reason": MetadataValue.json(by_reason)})


@asset(group_name=FRAUD_GROUP, deps=["payment_disputes", "orders"], kinds={"scikitlearn"})
def fraud_model(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                fraud: FraudResource) -> MaterializeResult:
    """A fraud model trained on the labels known today (disputes and operators' review outcomes),
    registered as a candidate: gradient-boosted trees with class weights, a time-ordered split
    (train on older orders, calibrate and set the review threshold on newer ones, report on the
    newest), sigmoid calibration, and a threshold that fills the review capacity. Orders younger than
    the label maturity are history only. The candidate is then judged against the promotion bar (one
    that fails is rejected); the blocking check `fraud_model_meets_bar` reports that verdict, and only
    a candidate that passed replaces the active model."""
    wh = warehouse.open()
    try:
        report = train_candidate(wh, shopify.shop_domain, fraud.policy(), datetime.now(UTC), context.run.run_id)
        judgement = judge_candidate(wh, shopify.shop_domain, fraud.policy())
    except FraudFlowError as exc:
        raise Failure(description=str(exc)) from exc
    model, m = report.model, report.model.metrics
    metadata = {
        "model_version": model.version,
        "roc_auc": m.get("roc_auc"), "pr_auc": m.get("pr_auc"),
        "reference_pr_auc": m.get("reference_pr_auc"),
        "precision_at_capacity": m.get("precision_at_capacity"), "recall_at_capacity": m.get("recall_at_capacity"),
        "brier": m.get("brier"), "review_capacity": model.capacity, "review_threshold": model.threshold,
        "training_window": MetadataValue.json(model.training_window),
        "rows": MetadataValue.json({k: v for k, v in m.items() if k.startswith(("rows_", "positives_"))}),
        "incumbent": MetadataValue.json({k: v for k, v in m.items() if k.startswith("incumbent_")}),
        "model_path": MetadataValue.path(str(report.path)),
        "meets_bar": judgement.passed,
        "promotion_checks": MetadataValue.json(judgement.verdict["checks"]),
    }
    for name, path in report.plots.items():
        metadata[f"{name}_plot"] = _image(path)
        metadata[f"{name}_png"] = MetadataValue.path(str(path))
    return MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None})


@asset(group_name=FRAUD_GROUP, deps=["fraud_model"], kinds={"python"})
def active_fraud_model(context: AssetExecutionContext, warehouse: WarehouseResource,
                       shopify: ShopifyResource) -> MaterializeResult:
    """The candidate that just passed `fraud_model_meets_bar` becomes the model that scores orders
    (the previous one is retired and stays available: `oms fraud rollback`). Runs only if the
    blocking check passed."""
    wh = warehouse.open()
    try:
        version, previous = promote_passed_candidate(wh, shopify.shop_domain, f"dagster:{context.run.run_id[:8]}",
                                                     datetime.now(UTC))
    except FraudFlowError as exc:
        raise Failure(description=str(exc)) from exc
    return MaterializeResult(metadata={"model_version": version, "replaced": previous.version if previous else "none"})


@asset(group_name=SIGNALS_GROUP, deps=["orders"], kinds={"scikitlearn"})
def fraud_scores(context: AssetExecutionContext, warehouse: WarehouseResource,
                 shopify: ShopifyResource) -> MaterializeResult:
    """A fraud score in [0, 1] for every order about to be decided, in one batch, with up to three
    reasons in plain words for the riskiest, the model version and the review decision (score at or
    above the threshold that fills the review capacity). History features count only orders created
    before each scored order. Without an active model, the rules stand-in scores (version rules-v1)."""
    wh = warehouse.open()
    summary = score_pending(wh, shopify.shop_domain, datetime.now(UTC), context.run.run_id)
    if summary.fallback:
        context.log.warning(summary.fallback)
    return MaterializeResult(metadata={
        "model_version": summary.model_version, "scored": summary.scored,
        "already_scored": summary.already_scored, "review": summary.review,
        "review_share": round(summary.review / summary.scored, 4) if summary.scored else 0.0,
        "top_reasons": MetadataValue.json(dict(summary.reasons.most_common(8))),
        "history_orders": summary.history_orders, "unreadable": summary.unreadable,
        "ms_per_order": round(summary.seconds * 1000 / summary.scored, 3) if summary.scored else 0.0,
    })
