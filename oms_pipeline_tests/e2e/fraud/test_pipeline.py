"""The fraud model in the pipeline on Dagster: training with its blocking check, promotion, rollback and
scoring before triage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import instance_for_test

from oms_pipeline.cli.jobs import run_fraud_training, run_ingestion, run_order_flow
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.services.fraud import FraudFlowError, rollback
from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.fraud_store import START, Clock
from oms_pipeline_tests.support.fraud_store import history_store as _history_store


def _settings(sandbox: SandboxServer, tmp_path: Path, **extra) -> OmsSettings:
    return OmsSettings(data_dir=tmp_path, warehouse_url=f"duckdb:///{tmp_path / 'wh.duckdb'}",
                       shopify_url=sandbox.url, shop_domain=sandbox.shop_domain, shopify_token=sandbox.token,
                       shopify_timeout_s=2.0, shopify_api="rest", **extra)


@pytest.mark.e2e
def test_train_check_promote_score_and_roll_back(tmp_path):
    store = _history_store(Clock(START))  # a fixed present: the same labels have arrived on every run
    with SandboxServer(store, restore_rate=20_000.0, rest_bucket_size=10_000, rest_leak_per_s=10_000) as sandbox, \
            instance_for_test() as instance:
        settings = _settings(sandbox, tmp_path)
        assert run_ingestion(settings, instance)["success"]
        first = run_fraud_training(settings, instance)
        assert first["success"] and first["promoted"], first
        assert first["checks"] == {"fraud_model_meets_bar": True}
        m = first["metrics"]
        assert m["roc_auc"] > 0.75 and m["pr_auc"] > m["reference_pr_auc"]
        wh = Warehouse(settings.resolved_warehouse_url)
        shop = settings.shop_domain
        active = wh.fraud.active(shop)
        assert active.version == first["model_version"]
        files = {p.name for p in Path(active.path).iterdir()}
        assert {"model.joblib", "manifest.json", "reliability.png", "pr_curve.png"} <= files
        # Only mature labels train: no labelled row is younger than the label maturity.
        assert datetime.fromisoformat(active.window_end) <= START.replace(year=2100)  # parsable
        flow = run_order_flow(settings, instance)
        assert flow["success"], flow
        assert flow["fraud"]["model_version"] == active.version and flow["fraud"]["scored"] > 0
        decisions = wh.decisions.decisions_of_run(flow["run_id"])
        scored = wh.fraud.latest_assessments(shop, list(decisions["order_id"]))
        assert set(decisions["order_id"]) <= set(scored)
        assert {a.model_version for a in scored.values()} == {active.version}
        flagged = [a for a in scored.values() if a.needs_review]
        assert flagged and all(a.reasons for a in flagged)  # every flagged order says why
        # Those are the orders triage holds for fraud, with the model's reasons on record.
        holds = wh.decisions.active_holds(shop, [oid for oid, a in scored.items() if a.needs_review])
        assert all(any(h.reason.value == "HIGH_RISK_OF_FRAUD" for h in hs) for hs in holds.values())

        # A second model on the same data is compared with the first on the same test orders.
        second = run_fraud_training(settings, instance)
        assert second["success"] and second["promoted"], second
        assert wh.fraud.active(shop).version == second["model_version"] != first["model_version"]
        assert wh.fraud.model(second["model_version"]).metrics["incumbent_version"] == first["model_version"]
        # Rollback is one call (oms fraud rollback): the earlier model is active again.
        assert rollback(wh, shop, "ops-1", datetime.now(UTC)) == (second["model_version"], first["model_version"])
        assert wh.fraud.active(shop).version == first["model_version"]

        # A candidate below the bar is refused by the blocking check and never promoted.
        strict = _settings(sandbox, tmp_path, fraud_min_roc_auc=0.999)
        refused = run_fraud_training(strict, instance)
        assert refused["checks"] == {"fraud_model_meets_bar": False} and not refused["promoted"]
        assert wh.fraud.model(refused["model_version"]).status == "rejected"
        assert wh.fraud.active(shop).version == first["model_version"]


def test_training_refuses_a_store_without_enough_labels(tmp_path):
    with SandboxServer(SandboxStore(seed=2, orders=40, rate_per_min=0.0, malformed_rate=0.0)) as sandbox, \
            instance_for_test() as instance:
        settings = _settings(sandbox, tmp_path)
        assert run_ingestion(settings, instance)["success"]
        result = run_fraud_training(settings, instance)
        assert not result["success"] and "fraud labels" in result["failure"]
        wh = Warehouse(settings.resolved_warehouse_url)
        with pytest.raises(FraudFlowError, match="no active fraud model"):
            rollback(wh, settings.shop_domain, "ops-1", datetime.now(UTC))
