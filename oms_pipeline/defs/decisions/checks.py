"""The blocking data-quality gate between decisions and the writeback, and the check that nothing stays
unsent for long."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from datetime import UTC, datetime

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from oms_pipeline.resources import PolicyResource, ShopifyResource, WarehouseResource
from oms_pipeline.services.writeback import decisions_gate, unsent_too_long


# On the last step before the writeback, so one gate covers the run's decisions and its plans.
@asset_check(asset="fulfillment_plans", blocking=True,
             description="Great Expectations suite on this run's decisions and fulfillment plans.")
def decisions_pass_expectations(context: AssetCheckExecutionContext,
                                warehouse: WarehouseResource) -> AssetCheckResult:
    """This run's decisions and plans pass the suite: one decision per order, scores and confidences
    in [0, 1], every exception with a reason, no plan shipping more than ordered or more than a
    location has. Blocking: if it fails, ``store_writeback`` does not run and nothing is written (the
    next run's writeback checks the same decisions again and closes their writes as blocked).
    """
    report, decisions, lines = decisions_gate(warehouse.open(), context.run.run_id)
    return AssetCheckResult(
        passed=report.success,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "decisions_checked": decisions,
            "shipment_lines_checked": lines,
            "failed_expectations": MetadataValue.json([r.as_dict() for r in report.failures]),
            "summary": MetadataValue.json(report.summary()),
        },
    )


@asset_check(asset="store_writeback", blocking=False,
             description="No intended write has waited longer than OMS_WRITEBACK_MAX_UNSENT_MINUTES to be sent.")
def writeback_outbox_drained(warehouse: WarehouseResource, shopify: ShopifyResource,
                             policy: PolicyResource) -> AssetCheckResult:
    """Warns when intended writes (of any run) are still unsent after the allowed age: their system has
    been unreachable for a while, or runs keep dying before their writeback. Per workflow: how many and
    since when."""
    stale = unsent_too_long(warehouse.open(), shopify.shop_domain, datetime.now(UTC), policy.max_unsent_age)
    return AssetCheckResult(
        passed=not stale,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "unsent_too_long": sum(s.count for s in stale),
            "max_age_minutes": policy.writeback_max_unsent_minutes,
            "by_workflow": MetadataValue.json([{"workflow": s.workflow, "status": s.status, "count": s.count,
                                                "oldest": s.oldest.isoformat()} for s in stale]),
        },
    )
