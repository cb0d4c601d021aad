"""Labels as the store knew them at a cutoff."""

from __future__ import annotations

from datetime import UTC, datetime

from oms_pipeline.domain.fraud.labels import labels_as_of

ORDERS = [{"id": i, "created_at": f"2025-03-0{i}T12:00:00+00:00"} for i in range(1, 6)]


def dispute(order_id: int, initiated: str, reason: str = "fraudulent", status: str = "lost",
            finalized: str | None = None) -> dict:
    return {"order_id": order_id, "reason": reason, "status": status, "initiated_at": initiated,
            "finalized_on": finalized}


def test_only_labels_known_at_the_cutoff() -> None:
    disputes = [
        dispute(1, "2025-03-10T00:00:00+00:00"),
        dispute(2, "2025-03-25T00:00:00+00:00"),  # after the cutoff: unknown then
        dispute(3, "2025-03-08T00:00:00+00:00", reason="product_not_received"),  # not a fraud label
        dispute(4, "2025-03-09T00:00:00+00:00", status="won", finalized="2025-03-15T00:00:00+00:00"),
    ]
    reviews = [{"order_id": 5, "reviewed_at": "2025-03-05T18:00:00+00:00", "outcome": "fraud"},
               {"order_id": 3, "reviewed_at": "2025-03-30T18:00:00+00:00", "outcome": "fraud"}]
    cutoff = datetime(2025, 3, 20, tzinfo=UTC)
    assert labels_as_of(ORDERS, disputes, reviews, cutoff) == {1: 1, 2: 0, 3: 0, 4: 0, 5: 1}
    later = datetime(2025, 4, 1, tzinfo=UTC)
    assert labels_as_of(ORDERS, disputes, reviews, later) == {1: 1, 2: 1, 3: 1, 4: 0, 5: 1}
    # A won dispute not yet finalized at the cutoff still counted as fraud then.
    assert labels_as_of(ORDERS, disputes, reviews, datetime(2025, 3, 12, tzinfo=UTC))[4] == 1


def test_orders_after_the_cutoff_are_not_labelled() -> None:
    labels = labels_as_of(ORDERS, [], [], datetime(2025, 3, 3, 12, tzinfo=UTC))
    assert labels == {1: 0, 2: 0, 3: 0}


def test_label_maturity_on_the_sandbox(history, matured_labels) -> None:
    """Right after the last order fewer frauds are known than 45 days later: labels arrive late."""
    orders = history.orders
    last = datetime.fromisoformat(orders[-1]["created_at"])
    early = labels_as_of(orders, history.disputes, history.review_outcomes, last)
    assert sum(early.values()) < sum(matured_labels.values())
