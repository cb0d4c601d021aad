"""The blocking data-quality gate between decisions and the writeback."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from oms_pipeline.quality.decision_expectations import validate_decisions
from oms_pipeline.resources import WarehouseResource


# On the last step before the writeback, so one gate covers the run's decisions and its plans.
@asset_check(asset="fulfillment_plans", blocking=True,
             description="Great Expectations suite on this run's decisions and fulfillment plans.")
def decisions_pass_expectations(context: AssetCheckExecutionContext,
                                warehouse: WarehouseResource) -> AssetCheckResult:
    """This run's decisions and plans pass the suite: one decision per order, scores and confidences
    in [0, 1], every exception with a reason, no plan shipping more than ordered or more than a
    location has. Blocking: if it fails, ``store_writeback`` does not run and nothing is written.
    """
    store = warehouse.open().decisions
    decisions = store.decisions_of_run(context.run.run_id)
    shipments = store.shipments_of_run(context.run.run_id)
    report = validate_decisions(decisions, shipments)
    return AssetCheckResult(
        passed=report.success,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "decisions_checked": len(decisions),
            "shipment_lines_checked": len(shipments),
            "failed_expectations": MetadataValue.json([r.as_dict() for r in report.failures]),
            "summary": MetadataValue.json(report.summary()),
        },
    )
