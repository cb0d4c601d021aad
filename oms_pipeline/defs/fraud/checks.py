"""The blocking check between a trained fraud model and its promotion."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from oms_pipeline.fraud_flow import promotion_verdict
from oms_pipeline.resources import FraudResource, ShopifyResource, WarehouseResource


@asset_check(asset="fraud_model", blocking=True,
             description="The candidate beats the floors and is not worse than the active model.")
def fraud_model_meets_bar(context: AssetCheckExecutionContext, warehouse: WarehouseResource,
                          shopify: ShopifyResource, fraud: FraudResource) -> AssetCheckResult:
    """The newest candidate may replace the active model only if its ROC-AUC and PR-AUC clear the
    floors and its PR-AUC, on the same newest orders, is not below the active model's (within the
    tolerance). Blocking: a failing candidate is marked rejected and `active_fraud_model` does not run."""
    wh = warehouse.open()
    candidates = [m for m in wh.fraud.models(shopify.shop_domain) if m.status == "candidate"]
    if not candidates:
        return AssetCheckResult(passed=False, severity=AssetCheckSeverity.ERROR,
                                metadata={"problem": "no candidate model in the registry"})
    candidate = candidates[0]
    verdict = promotion_verdict(candidate.metrics, fraud.policy())
    wh.fraud.record_check(candidate.version, verdict)
    if not verdict["passed"]:
        wh.fraud.reject(candidate.version)
    return AssetCheckResult(passed=verdict["passed"], severity=AssetCheckSeverity.ERROR, metadata={
        "model_version": candidate.version, "checks": MetadataValue.json(verdict["checks"])})
