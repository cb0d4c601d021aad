"""One seeded labelled history and one trained model, shared by the fraud tests (they are not cheap)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oms_pipeline.domain.fraud import FraudModel, labels_as_of, train_fraud_model
from oms_pipeline.domain.fraud.features import parse_timestamp
from oms_pipeline.sandbox.fraud_history import FraudHistory, build_fraud_history

HISTORY_ORDERS = 20_000


@pytest.fixture(scope="package")
def history() -> FraudHistory:
    """20k seeded orders over 120 days with disputes and review outcomes."""
    return build_fraud_history(HISTORY_ORDERS, seed=11)


@pytest.fixture(scope="package")
def matured_labels(history: FraudHistory) -> dict[int, int]:
    """Labels as known 45 days after the last order."""
    last = datetime.fromtimestamp(parse_timestamp(history.orders[-1]["created_at"])[0], UTC)
    return labels_as_of(history.orders, history.disputes, history.review_outcomes, last + timedelta(days=45))


@pytest.fixture(scope="package")
def model(history: FraudHistory, matured_labels: dict[int, int]) -> FraudModel:
    """A model trained on the shared history (fixed version and time, so runs are comparable)."""
    return train_fraud_model(history.orders, matured_labels, capacity=0.02, version="fraud-test",
                             trained_at=datetime(2025, 6, 1, tzinfo=UTC), max_iter=150)
