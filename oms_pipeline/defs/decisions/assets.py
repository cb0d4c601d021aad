"""Decision and writeback assets: triage every changed order, then write the decisions back."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from datetime import UTC, datetime

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from oms_pipeline.decisioning import decide_pending, write_back
from oms_pipeline.gateway.policy import CircuitOpen
from oms_pipeline.resources import DecisionsResource, ShopifyResource, WarehouseResource

DECISIONS_GROUP = "order_decisions"


@asset(group_name=DECISIONS_GROUP, deps=["orders"], kinds={"python"})
def order_triage(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                 decisions: DecisionsResource) -> MaterializeResult:
    """Every order that changed (or whose hold is due for its recheck) decided: triage (standard,
    flagged, exception) with the rules that fired, its state change, its holds, and a fulfillment
    plan made for the whole batch; the writes each decision asks for are stored for the writeback.

    Orders whose new version changes nothing decisions read (our own tags coming back) are not decided
    again. Rules and engine versions are stamped on every decision.
    """
    wh = warehouse.open()
    policy = decisions.policy()
    summary = decide_pending(wh, shopify.shop_domain, policy, context.run.run_id, datetime.now(UTC))
    if summary.unreadable:
        context.log.warning("%d orders could not be read again: %s", len(summary.unreadable),
                            "; ".join(summary.unreadable[:5]))
    meta = summary.metadata()
    return MaterializeResult(metadata={
        "decided": summary.decided,
        "unchanged_versions": summary.unchanged,
        "outcomes": MetadataValue.json(meta["outcomes"]),
        "states": MetadataValue.json(meta["states"]),
        "reasons": MetadataValue.json(meta["reasons"]),
        "holds_placed": MetadataValue.json(meta["holds_placed"]),
        "holds_released": summary.holds_released,
        "intended_writes": MetadataValue.json(meta["intended_writes"]),
        "fulfillment_plan": MetadataValue.json(meta["plan"]),
        "rules_version": policy.rules.version,
    })


@asset(group_name=DECISIONS_GROUP, deps=["order_triage"], kinds={"shopify", "slack", "zendesk"})
def store_writeback(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                    decisions: DecisionsResource) -> MaterializeResult:
    """The run's decisions written back through the gateway: tags, metafields, holds, plan summaries,
    exception alerts (Slack) and tickets (Zendesk), each audited first, idempotent by ledger key, and
    subject to policy and each workflow's rollout mode (shadow, assisted, auto).

    Runs only when the decisions passed their quality gate. A re-run writes nothing new.
    """
    wh = warehouse.open()
    with decisions.gateway(wh, shopify) as gateway:
        try:
            report = write_back(wh, gateway, context.run.run_id)
        except CircuitOpen as tripped:
            raise Failure(description=str(tripped)) from tripped
    summary = report.summary()
    if report.failures:
        context.log.warning("%d writes failed and stay pending for the next run", len(report.failures))
    return MaterializeResult(metadata={
        "written": report.written,
        "outcomes": MetadataValue.json(summary["outcomes"]),
        "by_workflow": MetadataValue.json(summary["by_workflow"]),
        "refusals": MetadataValue.json(summary["refusals"]),
        "failures": MetadataValue.json(summary["failures"]),
        "modes": MetadataValue.json({k.value: v.value for k, v in decisions.modes().items()}),
    })
