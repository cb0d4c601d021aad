"""A sandbox store with four months of labelled order history, on a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime

from oms_pipeline.sandbox.store import SandboxStore

START = datetime(2026, 6, 1, 12, tzinfo=UTC)


class Clock:
    """The store's wall clock (``clock.at``), moved by the test."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def history_store(clock: Clock | None = None, orders: int = 30) -> SandboxStore:
    """The store, with 2,500 older orders over 120 days and a 5% fraud rate in its history."""
    return SandboxStore(seed=4, orders=orders, rate_per_min=0.0, malformed_rate=0.0, clock=clock,
                        history_orders=2500, history_days=120, fraud_rate=0.05)
