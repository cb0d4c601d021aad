"""Decision, planning and writeback assets: triage every changed order, plan the fulfillment of those
ready to ship, then write the decisions and plans back."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from datetime import UTC, datetime

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from oms_pipeline.resources import (
    CarrierRatesResource,
    PolicyResource,
    ShipStationResource,
    ShopifyResource,
    SlackResource,
    WarehouseResource,
    ZendeskResource,
    writeback_gateway,
)
from oms_pipeline.services.decisions import triage_pending
from oms_pipeline.services.planning import plan_decided
from oms_pipeline.services.writeback import STORE_WORKFLOWS, DrainReport, drain_outbox

DECISIONS_GROUP = "order_decisions"


@asset(group_name=DECISIONS_GROUP, deps=["orders", "fraud_scores", "order_note_tags"], kinds={"python"})
def order_triage(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                 policy: PolicyResource) -> MaterializeResult:
    """Every order that changed (or whose hold is due for its recheck) decided: triage (standard,
    flagged, exception) with the rules that fired, its state change and its holds; the writes each
    decision asks for are stored for the writeback. ``fulfillment_plans`` plans the ready ones next.

    Orders whose new version changes nothing decisions read (our own tags coming back) are not decided
    again. Rules and engine versions are stamped on every decision.
    """
    wh = warehouse.open()
    rules = policy.decision_policy()
    summary = triage_pending(wh, shopify.shop_domain, rules, context.run.run_id, datetime.now(UTC))
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
        "rules_version": rules.rules.version,
    })


@asset(group_name=DECISIONS_GROUP, deps=["order_triage"], kinds={"python"})
def fulfillment_plans(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                      policy: PolicyResource, carrier_rates: CarrierRatesResource) -> MaterializeResult:
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
    rules, routing = policy.decision_policy(), policy.routing(carrier_rates)
    client = routing.rates_client()
    try:
        summary = plan_decided(wh, shopify.shop_domain, rules.network, rules.rules, context.run.run_id, routing,
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
                    slack: SlackResource, zendesk: ZendeskResource, shipstation: ShipStationResource,
                    policy: PolicyResource) -> MaterializeResult:
    """The writes decisions and plans asked for, sent through the gateway from the outbox: tags,
    metafields, holds, plan summaries, exception alerts (Slack), tickets (Zendesk) and note lines, each
    audited first, idempotent by ledger key, and subject to policy and each workflow's rollout mode
    (shadow, assisted, auto).

    Runs only when this run's decisions passed their quality gate. It first finishes what earlier runs
    left unsent (a run that died midway; their gate is checked here first), oldest first, then this
    run's own writes; ``earlier_writes_finished`` says how many. A re-run writes nothing new.
    """
    wh = warehouse.open()
    with writeback_gateway(wh, shopify, slack, zendesk, shipstation, policy) as gateway:
        drained = drain_outbox(wh, gateway, shopify.shop_domain, context.run.run_id, STORE_WORKFLOWS)
    return writeback_step_result(context, drained, policy)


def writeback_step_result(context: AssetExecutionContext, drained: DrainReport,
                          policy: PolicyResource) -> MaterializeResult:
    """Metadata of a writeback step; fails the step when the circuit breaker stopped a batch."""
    meta = drained.metadata()
    if drained.earlier_finished:
        context.log.info("finished %d writes earlier runs left unsent (runs %s)", drained.earlier_finished,
                         ", ".join(drained.earlier_runs[:5]))
    if drained.blocked:
        context.log.warning("%d writes of runs whose quality gate failed were closed unsent: %s",
                            sum(drained.blocked.values()), drained.blocked)
    if drained.left_open:
        context.log.warning("%d writes could not be sent and stay open for the next run", drained.left_open)
    if drained.report.uncertain:
        context.log.warning("%d messages may have been posted (their answer was lost): queued for an operator",
                            len(drained.report.uncertain))
    if drained.report.circuit_open:
        raise Failure(description="; ".join(drained.report.circuit_open), metadata={
            "outcomes": MetadataValue.json(meta["outcomes"])})
    return MaterializeResult(metadata={
        "written": meta["written"],
        "earlier_writes_finished": meta["earlier_writes_finished"],
        "left_open": meta["left_open"],
        "blocked_by_gate": meta["blocked_by_gate"],
        "may_have_been_posted": len(drained.report.uncertain),
        "outcomes": MetadataValue.json(meta["outcomes"]),
        "earlier_outcomes": MetadataValue.json(meta["earlier_outcomes"]),
        "by_workflow": MetadataValue.json(meta["by_workflow"]),
        "refusals": MetadataValue.json(meta["refusals"]),
        "failures": MetadataValue.json(meta["failures"]),
        "modes": MetadataValue.json({k.value: v.value for k, v in policy.modes().items()}),
    })
