"""The fraud model in the pipeline: disputes over HTTP, training with its blocking check, promotion,
rollback, scoring before triage, and the canonical order giving the same features as the REST one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from dagster import instance_for_test

from oms_pipeline.cli.jobs import run_fraud_training, run_ingestion, run_order_flow
from oms_pipeline.connectors.shopify import ShopifyClient
from oms_pipeline.domain.fraud.canonical import rest_view
from oms_pipeline.domain.fraud.features import FEATURE_NAMES, FeatureBuilder
from oms_pipeline.domain.ingestion import PollWindow, parse_event
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.services.fraud import FraudFlowError, FraudPolicy, promotion_verdict, rollback
from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage.warehouse import Warehouse

START = datetime(2026, 6, 1, 12, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _history_store(clock: Clock | None = None, orders: int = 30) -> SandboxStore:
    return SandboxStore(seed=4, orders=orders, rate_per_min=0.0, malformed_rate=0.0, clock=clock,
                        history_orders=2500, history_days=120, fraud_rate=0.05)


def test_disputes_appear_late_and_page_over_http():
    clock = Clock(START)
    store = _history_store(clock)
    with SandboxServer(store, restore_rate=20_000.0) as sandbox, \
            ShopifyClient(sandbox.url, sandbox.token, sandbox.shop_domain, timeout_s=2.0) as client:
        first = list(client.iter_disputes())
        assert first and {"id", "order_id", "type", "amount", "currency", "reason", "status", "initiated_at",
                          "finalized_on", "evidence_due_by", "network_reason_code"} <= set(first[0])
        assert all(datetime.fromisoformat(d["initiated_at"]) <= START for d in first)
        stamps = [datetime.fromisoformat(d["initiated_at"]) for d in first]
        assert stamps == sorted(stamps, reverse=True)  # newest first, as Shopify serves them
        assert all(isinstance(d["amount"], str) for d in first)  # money as decimal strings
        # Paged with a small limit: every dispute exactly once, through Link headers only.
        response = client._rest_get(f"/admin/api/{client.api_version}/shopify_payments/disputes.json",
                                    {"limit": 7})
        assert 'rel="next"' in response.headers["Link"] and len(response.json()["disputes"]) == 7
        # Chargebacks keep arriving after the orders: a month later the store shows more.
        clock.at = START + timedelta(days=30)
        later = list(client.iter_disputes())
        assert len(later) > len(first)
        assert {d["id"] for d in first} <= {d["id"] for d in later}
        by_id = {d["id"]: d for d in later}
        assert any(by_id[d["id"]]["status"] != d["status"] for d in first)  # some were decided since
        bad = client._http.get(f"/admin/api/{client.api_version}/shopify_payments/disputes.json",
                               params={"status": "nonsense"})
        assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_an_order_has_the_same_features_from_either_api_as_from_its_rest_element():
    store = SandboxStore(seed=4, orders=0, rate_per_min=0.0, malformed_rate=0.0, history_orders=300,
                         history_days=30)
    with SandboxServer(store, restore_rate=100_000.0, bucket_size=100_000.0) as sandbox, \
            ShopifyClient(sandbox.url, sandbox.token, sandbox.shop_domain, timeout_s=5.0) as client:
        window = PollWindow(start=None, end=None)
        views = {api: {e.order_id: rest_view(parse_event(e, sandbox.shop_domain))
                       for e in client.iter_order_events(window, api)} for api in ("graphql", "rest")}
    ids = sorted(views["rest"])
    assert ids == sorted(views["graphql"]) and len(ids) == 300
    by_graphql = FeatureBuilder().transform([views["graphql"][i] for i in ids])
    by_rest = FeatureBuilder().transform([views["rest"][i] for i in ids])
    np.testing.assert_array_equal(by_graphql, by_rest)  # the poller (GraphQL) and a backfill (REST) agree
    raw = FeatureBuilder().transform([store.get(int(i)).rest() for i in ids])
    same = [j for j, name in enumerate(FEATURE_NAMES) if name != "shop_local_hour"]  # canonical: UTC hour
    np.testing.assert_allclose(by_rest[:, same], raw[:, same], equal_nan=True, rtol=1e-9)


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
