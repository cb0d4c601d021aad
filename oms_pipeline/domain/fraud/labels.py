"""Fraud labels as the store knew them at a moment: from payment disputes and operators' review outcomes.

Labels arrive late: a chargeback for fraud comes days to weeks after the order. Training on labels
that were not yet known at the training cutoff would flatter the model, so every label here is
built *as of* a cutoff, from records dated at or before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from oms_pipeline.domain.fraud.features import parse_timestamp


def _ts(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else None
    stamp = parse_timestamp(value)
    return stamp[0] if stamp else None


def labels_as_of(
    orders: Iterable[Mapping[str, Any]],
    disputes: Iterable[Mapping[str, Any]],
    review_outcomes: Iterable[Mapping[str, Any]],
    cutoff: datetime,
) -> dict[int, int]:
    """``order id -> 1 (fraud) | 0`` for every order created at or before ``cutoff``, as known at ``cutoff``.

    An order is fraud when, by ``cutoff``, a dispute with reason ``fraudulent`` had been initiated
    against it (unless that dispute was already finalized as ``won`` by the merchant by then, i.e.
    shown to be a real purchase), or an operator had reviewed it with outcome ``fraud``. A dispute
    outranks an operator's ``legitimate`` verdict, since the cardholder's bank saw what the operator
    could not. Orders with nothing known are 0: that is what the store believed at the time, and it
    is why recent orders carry noisier labels. Records with unreadable dates are ignored.
    """
    limit = cutoff.timestamp()
    fraud: set[int] = set()
    for dispute in disputes:
        if str(dispute.get("reason") or "").lower() != "fraudulent":
            continue
        initiated = _ts(dispute.get("initiated_at"))
        if initiated is None or initiated > limit:
            continue
        finalized = _ts(dispute.get("finalized_on"))
        if dispute.get("status") == "won" and finalized is not None and finalized <= limit:
            continue
        fraud.add(int(dispute["order_id"]))
    for review in review_outcomes:
        reviewed = _ts(review.get("reviewed_at"))
        if reviewed is not None and reviewed <= limit and str(review.get("outcome")).lower() == "fraud":
            fraud.add(int(review["order_id"]))
    labels: dict[int, int] = {}
    for order in orders:
        created = _ts(order.get("created_at"))
        if created is None or created > limit or order.get("id") is None:
            continue
        labels[int(order["id"])] = int(int(order["id"]) in fraud)
    return labels
