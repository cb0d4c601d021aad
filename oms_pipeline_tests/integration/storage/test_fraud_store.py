"""The fraud tables on both warehouse backends: dispute upserts, review outcomes, registry, scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oms_pipeline.domain.fraud.labels import labels_as_of
from oms_pipeline.storage.warehouse import Warehouse

SHOP = "s.myshopify.com"
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _dispute(i: int, status: str = "needs_response", finalized: str | None = None) -> dict:
    return {"id": 98_000_000_000 + i, "order_id": 5_000_000_000_000 + i, "type": "chargeback", "amount": "120.50",
            "currency": "USD", "reason": "fraudulent", "network_reason_code": "10.4", "status": status,
            "evidence_due_by": "2026-03-20T00:00:00-05:00", "evidence_sent_on": None, "finalized_on": finalized,
            "initiated_at": "2026-03-05T10:00:00-05:00"}


def _manifest(version: str, at: datetime) -> dict:
    return {"version": version, "trained_at": at.isoformat(), "training_window": {"start": "a", "end": "b"},
            "feature_names": ["x"], "metrics": {"pr_auc": 0.5}, "threshold": 0.3, "capacity": 0.02}


def _exercise(url: str) -> None:
    wh = Warehouse(url)
    wh.migrate()
    store = wh.fraud
    first = store.land_disputes(SHOP, [_dispute(1), _dispute(2)], T0)
    assert (first.new, first.changed) == (2, 0)
    again = store.land_disputes(SHOP, [_dispute(1, "won", "2026-04-01T00:00:00-05:00"), _dispute(2)], T0)
    assert (again.new, again.changed) == (0, 1)
    disputes = {d["order_id"]: d for d in store.disputes(SHOP)}
    assert disputes[str(5_000_000_000_001)]["status"] == "won"
    assert disputes[str(5_000_000_000_002)]["initiated_at"] == datetime(2026, 3, 5, 15, tzinfo=UTC)

    store.add_review_outcome(SHOP, "5000000000003", "fraud", "ops-1", T0, source="oms fraud review")
    with pytest.raises(ValueError, match="order 7: outcome must be one of"):
        store.add_review_outcome(SHOP, "7", "maybe", "ops-1", T0, source="test")
    orders = [{"id": 5_000_000_000_000 + i, "created_at": "2026-03-01T08:00:00-05:00"} for i in (1, 2, 3, 4)]
    # As of April 2: dispute 1 was won (not fraud), 2 is open (fraud), 3 was reviewed as fraud.
    labels = labels_as_of(orders, store.disputes(SHOP), store.review_outcomes(SHOP), datetime(2026, 4, 2, tzinfo=UTC))
    assert labels == {5_000_000_000_001: 0, 5_000_000_000_002: 1, 5_000_000_000_003: 1, 5_000_000_000_004: 0}

    store.register(SHOP, _manifest("v1", T0), "/models/v1", "run-1")
    store.register(SHOP, _manifest("v2", T0 + timedelta(days=1)), "/models/v2", "run-2")
    assert [m.version for m in store.models(SHOP)] == ["v2", "v1"] and store.active(SHOP) is None
    assert store.activate(SHOP, "v1", "ops", T0) is None
    assert store.activate(SHOP, "v2", "ops", T0 + timedelta(days=1)).version == "v1"
    assert store.active(SHOP).version == "v2" and store.model("v1").status == "retired"
    with pytest.raises(KeyError):
        store.activate(SHOP, "v9", "ops", T0)

    row = {"shop_domain": SHOP, "order_id": "42", "order_updated_at": T0, "model_version": "v2",
           "fraud_score": 0.91, "review_threshold": 0.3, "decision": "review",
           "reasons": '["shipping country differs from billing country"]', "scored_at": T0, "run_id": "r"}
    store.save_scores([row, {**row, "order_updated_at": T0 + timedelta(hours=1), "fraud_score": 0.2,
                             "decision": "approve", "reasons": "[]"}])
    store.save_scores([row])  # the same order version and model again: no-op
    assert store.scored_versions(SHOP, "v2", ["42"]) == {("42", T0), ("42", T0 + timedelta(hours=1))}
    latest = store.latest_assessments(SHOP, ["42", "43"])
    assert set(latest) == {"42"} and latest["42"].score == 0.2 and not latest["42"].needs_review


def test_fraud_store_on_duckdb(duckdb_url):
    _exercise(duckdb_url)


def test_fraud_store_on_postgresql(postgres_schema_url):
    _exercise(postgres_schema_url)
