"""Data-quality gate on canonical orders: a Great Expectations suite run as a blocking asset check."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)

from oms_pipeline.quality.order_expectations import validate_orders
from oms_pipeline.resources import WarehouseResource


@asset_check(asset="orders", blocking=True, description="Great Expectations suite on this run's orders.")
def orders_pass_expectations(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    """The orders this run wrote pass the suite: ids unique, totals non-negative, line totals equal to
    the subtotal within a cent, ISO currency codes, timezone-aware timestamps.

    Blocking: anything downstream of ``orders`` in the run (writebacks, later) does not run on a batch
    that fails.
    """
    orders, lines = warehouse.open().orders_of_run(context.run.run_id)
    report = validate_orders(orders, lines)
    failed = [r for r in report.results if not r.success]
    return AssetCheckResult(
        passed=report.success,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "orders_checked": len(orders),
            "lines_checked": len(lines),
            "expectations": len(report.results),
            "failed_expectations": MetadataValue.json(
                [{"expectation": r.expectation, "column": r.column, "unexpected_count": r.unexpected_count,
                  "sample": r.unexpected_sample} for r in failed]
            ),
            "summary": MetadataValue.json(report.summary()),
        },
    )
