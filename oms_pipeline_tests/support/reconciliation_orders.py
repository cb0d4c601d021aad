"""A generated store order with every list the reconciliation inputs read (fulfillments, refunds, transactions)."""

from __future__ import annotations

from oms_pipeline.sandbox.reconciliation_data import generate_reconciliation_data


def order_with_everything() -> dict:
    """A generated order that was shipped and has a refund (so every store list is present)."""
    data = generate_reconciliation_data(60, seed=5)
    return next(o for o in data.orders if o["fulfillments"] and o["refunds"] and o["refunds"][0]["transactions"])
