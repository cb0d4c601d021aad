"""The blocking check between a trained fraud model and its promotion."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from oms_pipeline.resources import ShopifyResource, WarehouseResource
from oms_pipeline.services.fraud import latest_judgement


@asset_check(asset="fraud_model", blocking=True,
             description="The candidate beats the floors and is not worse than the active model.")
def fraud_model_meets_bar(context: AssetCheckExecutionContext, warehouse: WarehouseResource,
                          shopify: ShopifyResource) -> AssetCheckResult:
    """The newest candidate may replace the active model only if its ROC-AUC and PR-AUC clear the
    floors and its PR-AUC, on the same newest orders, is not below the active model's (within the
    tolerance). Reports the verdict `fraud_model` recorded when it trained the candidate (a failing
    candidate is already marked rejected). Blocking: on a failed verdict `active_fraud_model` does not run."""
    judgement = latest_judgement(warehouse.open(), shopify.shop_domain)
    if judgement is None:
        return AssetCheckResult(passed=False, severity=AssetCheckSeverity.ERROR,
                                metadata={"problem": "no model in the registry was judged"})
    return AssetCheckResult(passed=judgement.passed, severity=AssetCheckSeverity.ERROR, metadata={
        "model_version": judgement.version, "checks": MetadataValue.json(judgement.verdict["checks"])})
