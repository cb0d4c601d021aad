"""The fraud model's promotion verdict: each blocking check on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from oms_pipeline.services.fraud import FraudPolicy, promotion_verdict

POLICY = FraudPolicy(models_dir=Path("/nonexistent"))


@pytest.mark.parametrize(("metrics", "passed", "failing"), [
    ({"roc_auc": 0.9, "pr_auc": 0.5, "base_rate_test": 0.04, "precision_at_capacity": 0.6}, True, []),
    ({"roc_auc": 0.65, "pr_auc": 0.5, "base_rate_test": 0.04, "precision_at_capacity": 0.6}, False,
     ["roc_auc_floor"]),
    ({"roc_auc": 0.9, "pr_auc": 0.07, "base_rate_test": 0.04, "precision_at_capacity": 0.6}, False,
     ["pr_auc_floor"]),
    ({"roc_auc": 0.9, "pr_auc": 0.5, "base_rate_test": 0.04, "precision_at_capacity": None}, False,
     ["flags_within_capacity"]),
    ({"roc_auc": 0.9, "pr_auc": 0.5, "base_rate_test": 0.04, "precision_at_capacity": 0.6,
      "incumbent_version": "v1", "incumbent_pr_auc": 0.505}, True, []),
    ({"roc_auc": 0.9, "pr_auc": 0.5, "base_rate_test": 0.04, "precision_at_capacity": 0.6,
      "incumbent_version": "v1", "incumbent_pr_auc": 0.55}, False, ["not_worse_than_active"]),
])
def test_promotion_verdict(metrics, passed, failing):
    verdict = promotion_verdict(metrics, POLICY)
    assert verdict["passed"] is passed
    assert [c["check"] for c in verdict["checks"] if not c["passed"]] == failing
