"""Decision, planning and writeback assets: triage every changed order, plan the fulfillment of those
ready to ship, then write the decisions and plans back."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from datetime import UTC, datetime

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from oms_pipeline.decisioning import triage_pending, write_back
from oms_pipeline.domain.writeback.policy import CircuitOpen
from oms_pipeline.planning import plan_decided
from oms_pipeline.resources import DecisionsResource, ShopifyResource, WarehouseResource

DECISIONS_GROUP = "order_decisions"


@asset(group_name=DECISIONS_GROUP, deps=["orders", "fraud_scores", "order_note_tags"], kinds={"python"})
def order_triage(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                 decisions: DecisionsResource) -> MaterializeResult:
    """Every order that changed (or whose hold is due for its recheck) decided: triage (standard,
    flagged, exception) with the rules that fired, its state change and its holds; the writes each
    decision asks for are stored for the writeback. ``fulfillment_plans`` plans the ready ones next.

    Orders whose new version changes nothing decisions read (our own tags coming back) are not decided
    again. Rules and engine versions are stamped on every decision.
    """
    wh = warehouse.open()
    policy = decisions.policy()
    summary = triage_pending(wh, shopify.shop_domain, policy, context.run.run_id, datetime.now(UTC))
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
        "rules_version": policy.rules.version,
    })


@asset(group_name=DECISIONS_GROUP, deps=["order_triage"], kinds={"python"})
def fulfillment_plans(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                      decisions: DecisionsResource) -> MaterializeResult:
    """The run's orders decided ready (or released) to ship, routed together by the batch optimizer (MILP,
    with a time limit and the greedy plan as fallback) over the fulfillment network's stock: which
    locations ship what, by which service, at what cost and in how many days, and why (the next best
    option, the line that forced a split). With a carrier rates API configured, each shipment is then
    rate-shopped for the cheapest service meeting the order's promise. Shipments are stored for the
    quality gate and the marts; each order's plan becomes an ``oms.plan`` metafield write.

    Metadata compares the plan with the greedy plan on the same batch (cost saved) and gives the
    solver's status, gap to its proven bound and seconds.
    """
    wh = warehouse.open()
    policy, routing = decisions.policy(), decisions.routing()
    client = routing.rates_client()
    try:
        summary = plan_decided(wh, shopify.shop_domain, policy.network, policy.rules, context.run.run_id, routing,
                               client)
    finally:
        if client is not None:
            client.close()
    if summary.figures.get("solver_status") == "greedy_fallback":
        context.log.warning("the batch optimizer found no plan better than greedy in %.1f s: the greedy plan is used",
                            routing.time_limit_s)
    if summary.rates_unavailable:
        context.log.warning("carrier rates unavailable, %d shipments keep their rate-card service: %s",
                            summary.shipments - summary.rate_shopped, summary.rates_unavailable)
    if summary.skipped:
        context.log.info("%d orders not planned: %s", len(summary.skipped), "; ".join(summary.skipped[:5]))
    meta = summary.metadata()
    return MaterializeResult(metadata={
        **{k: v for k, v in meta.items() if isinstance(v, int | float) and not isinstance(v, bool)},
        "solver_status": meta.get("solver_status") or "empty",
        "rates_unavailable": meta["rates_unavailable"] or "",
        "rates_cache": MetadataValue.json(meta["rates_cache"]),
        "planner": "milp" if summary.figures else "none",
        "time_limit_s": routing.time_limit_s,
        "rate_shopping": bool(routing.carrier_rates_url),
    })


@asset(group_name=DECISIONS_GROUP, deps=["fulfillment_plans"], kinds={"shopify", "slack", "zendesk"})
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
