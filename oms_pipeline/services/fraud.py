"""Running the fraud model over the warehouse: land labels, train, check, promote, roll back, score.

The Dagster assets and the ``oms fraud`` operator commands call these functions; the model itself
lives in ``domain/fraud`` and the tables in ``storage/fraud.py``. Model files are kept under
``<models_dir>/<version>/`` (``model.joblib``, ``manifest.json``, the two evaluation plots) and the
registry table says which version is active; rolling back is making an earlier version active.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from oms_pipeline.domain.decisions.signals import (
    RULES_FRAUD_MODEL_VERSION,
    rule_based_fraud_assessment,
)
from oms_pipeline.domain.fraud.canonical import rest_view
from oms_pipeline.domain.fraud.labels import labels_as_of
from oms_pipeline.domain.fraud.model import FraudModel, fresh_copy, pr_curve_png, reliability_png, train_fraud_model
from oms_pipeline.storage.fraud import RegisteredModel
from oms_pipeline.storage.warehouse import Warehouse

RELIABILITY_PNG = "reliability.png"
PR_CURVE_PNG = "pr_curve.png"
# Scoring needs every order since the model's training history ended; a day's margin covers
# orders that landed late.
HISTORY_MARGIN = timedelta(days=1)


class FraudFlowError(RuntimeError):
    """Something an operator must fix (no model to roll back to, too few labels, unknown version)."""


@dataclass(frozen=True)
class FraudPolicy:
    """How models are trained and judged: review capacity, label maturity, promotion bar, where files go."""

    models_dir: Path
    capacity: float = 0.02
    label_maturity_days: int = 30
    min_roc_auc: float = 0.7
    min_pr_auc_lift: float = 2.0
    promotion_tolerance: float = 0.01


# -- history ------------------------------------------------------------------------------------



@dataclass(frozen=True)
class TrainingSet:
    """Every order (REST view, oldest first) for history, and labels for the mature ones only."""

    orders: list[dict[str, Any]]
    labels: dict[int, int]
    cutoff: datetime
    mature_before: datetime
    unreadable: int

    @property
    def positives(self) -> int:
        """Fraud labels among the training rows."""
        return sum(self.labels.values())


def training_set(wh: Warehouse, shop: str, now: datetime, maturity_days: int) -> TrainingSet:
    """Orders and the labels known at ``now`` (or at the newest order, if older), from landed disputes
    and operators' review outcomes.

    Only orders older than ``maturity_days`` are labelled rows: a young order's chargeback has most
    likely not arrived yet, and calling it legitimate would teach the model that fresh fraud is fine.
    Younger orders still feed the history features.
    """
    history = wh.current_orders(shop)
    orders, unreadable = history.orders, len(history.unreadable)
    views = [rest_view(o) for o in orders]
    # The store's present as the warehouse knows it: the newest order (now, for a store that sells
    # every minute). A replayed or paused store then never counts labels as mature too early.
    if orders:
        now = min(now, max(o.created_at for o in orders))
    labels = labels_as_of(views, wh.fraud.disputes(shop), wh.fraud.review_outcomes(shop), now)
    mature_before = now - timedelta(days=maturity_days)
    young = {int(o.id) for o in orders if o.created_at > mature_before}
    return TrainingSet(orders=views, labels={k: v for k, v in labels.items() if k not in young}, cutoff=now,
                       mature_before=mature_before, unreadable=unreadable)


# -- training, promotion, rollback --------------------------------------------------------------


@dataclass(frozen=True)
class TrainingReport:
    """A trained candidate: its model, where it was saved, and the plots of its evaluation."""

    model: FraudModel
    path: Path
    plots: dict[str, Path]
    data: TrainingSet


def train_candidate(wh: Warehouse, shop: str, policy: FraudPolicy, now: datetime,
                    run_id: str | None = None) -> TrainingReport:
    """Train a model on the labels known now, save it with its plots, and register it as a candidate.

    The active model (if any) is evaluated on the candidate's test orders too, for the promotion check.
    """
    data = training_set(wh, shop, now, policy.label_maturity_days)
    if data.positives < 10:
        raise FraudFlowError(
            f"{shop}: only {data.positives} fraud labels on orders older than {policy.label_maturity_days} days "
            f"({len(data.labels)} labelled orders); at least 10 are needed to train and evaluate a model")
    incumbent = load_active_model(wh, shop)
    try:
        model = train_fraud_model(data.orders, data.labels, capacity=policy.capacity, trained_at=now,
                                  incumbent=incumbent)
    except ValueError as exc:
        raise FraudFlowError(f"{shop}: {exc}") from exc
    path = model.save(policy.models_dir / model.version)
    plots: dict[str, Path] = {}
    if model.curves:
        plots = {"reliability": path / RELIABILITY_PNG, "pr_curve": path / PR_CURVE_PNG}
        plots["reliability"].write_bytes(reliability_png(model.curves))
        plots["pr_curve"].write_bytes(pr_curve_png(model.curves))
    wh.fraud.register(shop, model.manifest(), str(path), run_id)
    return TrainingReport(model=model, path=path, plots=plots, data=data)


def promotion_verdict(metrics: dict[str, Any], policy: FraudPolicy) -> dict[str, Any]:
    """Whether a candidate with these test metrics may replace the active model, check by check.

    Floors: ROC-AUC at least ``min_roc_auc``; PR-AUC at least ``min_pr_auc_lift`` times the test
    orders' fraud rate (what a random ranking scores); the capacity threshold flags someone. Against
    the active model (scored on the same test orders): PR-AUC no more than ``promotion_tolerance`` lower.
    """
    roc, pr, base = metrics.get("roc_auc"), metrics.get("pr_auc"), metrics.get("base_rate_test")
    checks = [
        {"check": "roc_auc_floor", "value": roc, "bar": policy.min_roc_auc,
         "passed": roc is not None and roc >= policy.min_roc_auc},
        {"check": "pr_auc_floor", "value": pr, "bar": None if base is None else policy.min_pr_auc_lift * base,
         "passed": pr is not None and base is not None and pr >= policy.min_pr_auc_lift * base},
        {"check": "flags_within_capacity", "value": metrics.get("flagged_share_test"),
         "bar": metrics.get("capacity"), "passed": metrics.get("precision_at_capacity") is not None},
    ]
    current = metrics.get("incumbent_pr_auc")
    if metrics.get("incumbent_version"):
        checks.append({"check": "not_worse_than_active", "value": pr, "active_version": metrics["incumbent_version"],
                       "bar": None if current is None else current - policy.promotion_tolerance,
                       "passed": pr is not None and (current is None or pr >= current - policy.promotion_tolerance)})
    return {"passed": all(c["passed"] for c in checks), "checks": checks}


@dataclass(frozen=True)
class Judgement:
    """The promotion check's verdict on a candidate model."""

    version: str
    verdict: dict[str, Any]

    @property
    def passed(self) -> bool:
        """Whether the candidate may replace the active model."""
        return bool(self.verdict["passed"])


def judge_candidate(wh: Warehouse, shop: str, policy: FraudPolicy) -> Judgement:
    """Judge the newest candidate against the promotion bar (:func:`promotion_verdict`): the verdict is
    recorded on the model, and a candidate that fails is marked ``rejected``."""
    candidates = [m for m in wh.fraud.models(shop) if m.status == "candidate"]
    if not candidates:
        raise FraudFlowError(f"{shop}: no candidate fraud model in the registry")
    candidate = candidates[0]
    verdict = promotion_verdict(candidate.metrics, policy)
    wh.fraud.record_check(candidate.version, verdict)
    if not verdict["passed"]:
        wh.fraud.reject(candidate.version)
    return Judgement(candidate.version, verdict)


def latest_judgement(wh: Warehouse, shop: str) -> Judgement | None:
    """The verdict on the newest model that was judged (what the promotion check reports)."""
    judged = next((m for m in wh.fraud.models(shop) if m.check_result is not None), None)
    return Judgement(judged.version, judged.check_result) if judged else None


def promote_passed_candidate(wh: Warehouse, shop: str, by: str, now: datetime) -> tuple[str, RegisteredModel | None]:
    """Make the candidate that passed its promotion check the active model: (its version, the model it
    replaced)."""
    candidate = next((m for m in wh.fraud.models(shop) if m.status == "candidate"
                      and m.check_result and m.check_result.get("passed")), None)
    if candidate is None:
        raise FraudFlowError(f"{shop}: no candidate model that passed its promotion check")
    return candidate.version, promote(wh, shop, candidate.version, by, now)


def promote(wh: Warehouse, shop: str, version: str, by: str, now: datetime) -> RegisteredModel | None:
    """Make ``version`` the active model; returns the model it replaced."""
    try:
        return wh.fraud.activate(shop, version, by, now)
    except KeyError as exc:
        raise FraudFlowError(str(exc.args[0])) from exc


def rollback(wh: Warehouse, shop: str, by: str, now: datetime, to_version: str | None = None) -> tuple[str, str]:
    """Activate ``to_version``, or the model that was active before the current one; ``(from, to)``."""
    current = wh.fraud.active(shop)
    if current is None:
        raise FraudFlowError(f"{shop}: no active fraud model to roll back from")
    if to_version is None:
        earlier = [m for m in wh.fraud.models(shop) if m.status == "retired" and m.promoted_at is not None
                   and current.promoted_at is not None and m.promoted_at <= current.promoted_at]
        if not earlier:
            raise FraudFlowError(f"{shop}: {current.version} is the only model that was ever active")
        to_version = max(earlier, key=lambda m: m.promoted_at).version
    target = wh.fraud.model(to_version)
    if target is None or not Path(target.path).exists():
        raise FraudFlowError(f"{shop}: fraud model {to_version} is not registered or its files are gone")
    promote(wh, shop, to_version, by, now)
    return current.version, to_version


_CACHE: dict[str, FraudModel] = {}
_CACHE_LOCK = threading.Lock()


def load_model(registered: RegisteredModel) -> FraudModel:
    """The model files of a registry row (kept in memory per version: a run loads each once)."""
    with _CACHE_LOCK:
        if registered.version not in _CACHE:
            _CACHE[registered.version] = FraudModel.load(Path(registered.path))
        return _CACHE[registered.version]


def load_active_model(wh: Warehouse, shop: str) -> FraudModel | None:
    """The active model of the shop, or None."""
    active = wh.fraud.active(shop)
    return load_model(active) if active else None


# -- scoring ------------------------------------------------------------------------------------


@dataclass
class ScoringSummary:
    """What one scoring pass did."""

    model_version: str = ""
    scored: int = 0
    already_scored: int = 0
    review: int = 0
    unreadable: int = 0
    history_orders: int = 0
    fallback: str | None = None
    reasons: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def score_pending(wh: Warehouse, shop: str, now: datetime, run_id: str) -> ScoringSummary:
    """Score every order decisions are about to look at, with the active model (rules stand-in if none).

    History features see every order of the shop created before the scored one: the model's own
    training history plus the orders landed since it was trained.
    """
    started = datetime.now(UTC)
    summary = ScoringSummary()
    candidates = wh.decisions.candidates(shop, now)
    registered = wh.fraud.active(shop)
    model = None
    if registered:
        try:
            model = load_model(registered)
        except (OSError, ValueError) as exc:  # files gone or built for other features: keep deciding
            summary.fallback = f"model {registered.version} could not be loaded ({exc}); the rules stand-in scored"
    summary.model_version = model.version if model else RULES_FRAUD_MODEL_VERSION
    done = wh.fraud.scored_versions(shop, summary.model_version, [c.order_id for c, _ in candidates.read])
    todo = [(c, order) for c, order in candidates.read if (c.order_id, c.order_updated_at.astimezone(UTC)) not in done]
    summary.already_scored = len(candidates.read) - len(todo)
    orders, summary.unreadable = [order for c, order in todo], len(candidates.unreadable)
    versions = {c.order_id: c.order_updated_at for c, _ in todo}
    if not orders:
        return summary
    if model is None:
        assessments = [rule_based_fraud_assessment(o) for o in orders]
        decisions = ["review" if a.needs_review else "approve" for a in assessments]
    else:
        scorer = fresh_copy(model)
        # Only what the model's own history lacks: the orders since it was trained (the warehouse
        # filters, so a run never re-reads the whole shop).
        recent = wh.current_orders(shop, created_since=registered.trained_at - HISTORY_MARGIN).orders
        history = [rest_view(o) for o in recent]
        summary.history_orders = len(history)
        scorer.builder.transform(history)  # records them; ids already known are skipped
        assessments = [a.model_copy(update={"review_threshold": model.threshold})
                       for a in scorer.score([rest_view(o) for o in orders])]
        decisions = [model.decide(a.score) for a in assessments]
    rows = []
    for order, assessment, decision in zip(orders, assessments, decisions, strict=True):
        summary.scored += 1
        summary.review += decision == "review"
        if decision == "review":
            summary.reasons.update(assessment.reasons)
        rows.append({"shop_domain": shop, "order_id": order.id, "order_updated_at": versions[order.id],
                     "model_version": assessment.model_version, "fraud_score": assessment.score,
                     "review_threshold": assessment.review_threshold, "decision": decision,
                     "reasons": _json_list(assessment.reasons), "scored_at": now, "run_id": run_id})
    wh.fraud.save_scores(rows)
    summary.seconds = (datetime.now(UTC) - started).total_seconds()
    return summary


def _json_list(items: Iterable[str]) -> str:
    return json.dumps(list(items))
