"""Fraud tables: landed disputes, operators' review outcomes, the model registry and the scores."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oms_pipeline.domain.decisions.signals import FraudAssessment
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks, insert_rows

REVIEW_OUTCOMES = ("fraud", "legitimate")


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class RegisteredModel:
    """A row of the fraud model registry."""

    version: str
    status: str
    trained_at: datetime
    path: str
    metrics: dict[str, Any]
    threshold: float
    capacity: float
    window_start: str | None
    window_end: str | None
    promoted_at: datetime | None
    promoted_by: str | None
    check_result: dict[str, Any] | None


@dataclass(frozen=True)
class DisputeLanding:
    """What one read of the store's disputes changed."""

    seen: int
    new: int
    changed: int


class FraudStore:
    """Reads and writes of the fraud tables, on either warehouse backend."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- labels ---------------------------------------------------------------------------------

    def land_disputes(self, shop: str, disputes: Sequence[dict[str, Any]], now: datetime) -> DisputeLanding:
        """Upsert disputes by id: new ones are inserted, ones whose status or dates moved are updated."""
        t = schema.payment_disputes
        with self.engine.begin() as conn:
            known = {row.dispute_id: row.payload for row in conn.execute(
                sa.select(t.c.dispute_id, t.c.payload).where(t.c.shop_domain == shop))}
            new_rows, changed = [], 0
            for dispute in disputes:
                payload = json.dumps(dispute, sort_keys=True, separators=(",", ":"))
                row = {
                    "shop_domain": shop, "dispute_id": str(dispute.get("id")),
                    "order_id": None if dispute.get("order_id") is None else str(dispute["order_id"]),
                    "dispute_type": dispute.get("type"), "reason": dispute.get("reason"),
                    "network_reason_code": dispute.get("network_reason_code"), "status": dispute.get("status"),
                    "amount": _money(dispute.get("amount")), "currency": dispute.get("currency"),
                    "initiated_at": _when(dispute.get("initiated_at")),
                    "evidence_due_by": _when(dispute.get("evidence_due_by")),
                    "finalized_on": _when(dispute.get("finalized_on")), "payload": payload, "landed_at": now,
                }
                if row["dispute_id"] not in known:
                    new_rows.append({**row, "first_seen_at": now})
                elif known[row["dispute_id"]] != payload:
                    changed += 1
                    conn.execute(sa.update(t).where(t.c.shop_domain == shop, t.c.dispute_id == row["dispute_id"])
                                 .values({k: v for k, v in row.items() if k not in ("shop_domain", "dispute_id")}))
            for chunk in chunks(new_rows):
                insert_rows(conn, t, chunk)
        return DisputeLanding(seen=len(disputes), new=len(new_rows), changed=changed)

    def disputes(self, shop: str) -> list[dict[str, Any]]:
        """Landed disputes as label records (order id, reason, status, initiated and finalized times)."""
        t = schema.payment_disputes
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.order_id, t.c.reason, t.c.status, t.c.initiated_at, t.c.finalized_on)
                                .where(t.c.shop_domain == shop, t.c.order_id.is_not(None)))
            return [{"order_id": r.order_id, "reason": r.reason, "status": r.status,
                     "initiated_at": r.initiated_at and _utc(r.initiated_at),
                     "finalized_on": r.finalized_on and _utc(r.finalized_on)} for r in rows]

    def add_review_outcome(self, shop: str, order_id: str, outcome: str, reviewed_by: str, reviewed_at: datetime,
                           source: str, note: str | None = None) -> None:
        """Record an operator's verdict on an order (the latest verdict per order counts)."""
        if outcome not in REVIEW_OUTCOMES:
            raise ValueError(f"order {order_id}: outcome must be one of {', '.join(REVIEW_OUTCOMES)}, not {outcome!r}")
        if not reviewed_by.strip():
            raise ValueError(f"order {order_id}: a review outcome needs the operator's name")
        with self.engine.begin() as conn:
            conn.execute(sa.insert(schema.review_outcomes).values(
                shop_domain=shop, order_id=str(order_id), outcome=outcome, reviewed_by=reviewed_by,
                reviewed_at=reviewed_at, source=source, note=note))

    def review_outcomes(self, shop: str) -> list[dict[str, Any]]:
        """Operators' verdicts as label records (``order_id``, ``outcome``, ``reviewed_at``), oldest first."""
        t = schema.review_outcomes
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.order_id, t.c.outcome, t.c.reviewed_at, t.c.reviewed_by)
                                .where(t.c.shop_domain == shop).order_by(t.c.reviewed_at))
            return [{"order_id": r.order_id, "outcome": r.outcome, "reviewed_at": _utc(r.reviewed_at),
                     "reviewer": r.reviewed_by} for r in rows]

    # -- registry -------------------------------------------------------------------------------

    def register(self, shop: str, manifest: dict[str, Any], path: str, run_id: str | None) -> None:
        """Add a trained model to the registry as a ``candidate``."""
        window = manifest.get("training_window") or {}
        with self.engine.begin() as conn:
            conn.execute(sa.insert(schema.fraud_models).values(
                version=manifest["version"], shop_domain=shop, status="candidate",
                trained_at=datetime.fromisoformat(manifest["trained_at"]), window_start=window.get("start"),
                window_end=window.get("end"), test_start=window.get("test_start"),
                feature_names=json.dumps(manifest["feature_names"]), metrics=json.dumps(manifest["metrics"]),
                threshold=float(manifest["threshold"]), capacity=float(manifest["capacity"]), path=path,
                run_id=run_id))

    def record_check(self, version: str, result: dict[str, Any]) -> None:
        """Store the promotion check's verdict on a model."""
        with self.engine.begin() as conn:
            conn.execute(sa.update(schema.fraud_models).where(schema.fraud_models.c.version == version)
                         .values(check_result=json.dumps(result)))

    def activate(self, shop: str, version: str, by: str, now: datetime) -> RegisteredModel | None:
        """Make ``version`` the shop's active model (the previous one is retired); returns the previous one."""
        t = schema.fraud_models
        previous = self.active(shop)
        with self.engine.begin() as conn:
            if conn.execute(sa.select(t.c.version).where(t.c.version == version, t.c.shop_domain == shop)).first() \
                    is None:
                raise KeyError(f"no fraud model {version!r} for {shop}")
            conn.execute(sa.update(t).where(t.c.shop_domain == shop, t.c.status == "active")
                         .values(status="retired"))
            conn.execute(sa.update(t).where(t.c.version == version)
                         .values(status="active", promoted_at=now, promoted_by=by))
        return previous

    def reject(self, version: str) -> None:
        """Mark a candidate that failed its promotion check."""
        t = schema.fraud_models
        with self.engine.begin() as conn:
            conn.execute(sa.update(t).where(t.c.version == version, t.c.status == "candidate")
                         .values(status="rejected"))

    def models(self, shop: str) -> list[RegisteredModel]:
        """Every registered model of the shop, newest first."""
        t = schema.fraud_models
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.shop_domain == shop).order_by(t.c.trained_at.desc()))
            return [_model(row) for row in rows]

    def model(self, version: str) -> RegisteredModel | None:
        """One registered model by version."""
        t = schema.fraud_models
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.version == version)).first()
        return _model(row) if row else None

    def active(self, shop: str) -> RegisteredModel | None:
        """The model that scores the shop's orders now, if any."""
        return next((m for m in self.models(shop) if m.status == "active"), None)

    # -- scores ---------------------------------------------------------------------------------

    def save_scores(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert score rows (one per order version and model version; re-scoring the same pair is a no-op)."""
        with self.engine.begin() as conn:
            for chunk in chunks(list(rows)):
                insert_rows(conn, schema.fraud_scores, chunk, skip_existing=True)

    def scored_versions(self, shop: str, model_version: str, order_ids: Iterable[str]) -> set[tuple[str, datetime]]:
        """``(order id, order version)`` pairs that ``model_version`` already scored."""
        t = schema.fraud_scores
        out: set[tuple[str, datetime]] = set()
        with self.engine.connect() as conn:
            for chunk in chunks(list(order_ids)):
                for row in conn.execute(sa.select(t.c.order_id, t.c.order_updated_at).where(
                        t.c.shop_domain == shop, t.c.model_version == model_version, t.c.order_id.in_(chunk))):
                    out.add((row.order_id, _utc(row.order_updated_at)))
        return out

    def latest_assessments(self, shop: str, order_ids: Iterable[str]) -> dict[str, FraudAssessment]:
        """The most recent score of each order (newest order version, then newest scoring)."""
        t = schema.fraud_scores
        out: dict[str, tuple[Any, FraudAssessment]] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(order_ids)):
                for row in conn.execute(sa.select(t).where(t.c.shop_domain == shop, t.c.order_id.in_(chunk))):
                    key = (_utc(row.order_updated_at), _utc(row.scored_at))
                    if row.order_id not in out or key > out[row.order_id][0]:
                        out[row.order_id] = (key, FraudAssessment(
                            score=row.fraud_score, reasons=tuple(json.loads(row.reasons)),
                            model_version=row.model_version, review_threshold=row.review_threshold))
        return {order_id: assessment for order_id, (_, assessment) in out.items()}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _model(row: Any) -> RegisteredModel:
    return RegisteredModel(
        version=row.version, status=row.status, trained_at=_utc(row.trained_at), path=row.path,
        metrics=json.loads(row.metrics), threshold=row.threshold, capacity=row.capacity,
        window_start=row.window_start, window_end=row.window_end,
        promoted_at=_utc(row.promoted_at) if row.promoted_at else None, promoted_by=row.promoted_by,
        check_result=json.loads(row.check_result) if row.check_result else None)
