"""The trained fraud model: time-ordered training, calibration, a capacity threshold, reasons, versioning.

Training (:func:`train_fraud_model`) splits the labelled orders by ``created_at`` into three slices,
oldest to newest: *train* (fit a class-weighted HistGradientBoosting model), *validation* (fit a
sigmoid calibration on the frozen model and pick the threshold that flags the review capacity's
share of orders) and *test* (every reported metric). Nothing is ever split at random: the test slice
is the future the model has not seen, as in production.

Reasons are per-group contributions: the model's log-odds for the order minus its log-odds with one
group of features set to a typical legitimate order's values (training medians); the three largest
positive contributions are put into words. Deterministic and faithful to the model actually used.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, precision_recall_curve, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from oms_pipeline.domain.decisions.signals import FraudAssessment
from oms_pipeline.domain.fraud.features import FEATURE_INDEX, FEATURE_NAMES, FeatureBuilder, parse_timestamp
from oms_pipeline.domain.fraud.reasons import GROUP_COLUMNS, describe

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
# The simple yardstick of the issue: order value and billing/shipping mismatch only.
REFERENCE_FEATURES = ("order_value", "billing_shipping_country_mismatch", "billing_shipping_zip_mismatch")
# Reasons are computed for orders at or above this quantile of validation scores (and always for
# flagged ones): they cost one extra prediction per feature group, and nobody reads them on the rest.
EXPLAIN_QUANTILE = 0.9
MAX_REASONS = 3


@dataclass(frozen=True)
class SplitIndex:
    """Row positions (into the labelled rows, oldest first) of the time-ordered slices."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


def time_ordered_split(timestamps: np.ndarray, valid_fraction: float = 0.2, test_fraction: float = 0.2) -> SplitIndex:
    """Split rows by time: the oldest go to train, the next to validation, the newest to test.

    Boundaries fall between distinct timestamps, so no validation or test row is older than (or as
    old as) any train row, and likewise between validation and test.
    """
    order = np.argsort(timestamps, kind="stable")
    ts = timestamps[order]
    n = len(ts)

    def boundary(share_before: float) -> int:
        i = int(round(n * share_before))
        while 0 < i < n and ts[i] == ts[i - 1]:  # never cut between equal timestamps
            i += 1
        return i

    b1 = boundary(1 - valid_fraction - test_fraction)
    b2 = max(b1, boundary(1 - test_fraction))
    return SplitIndex(order[:b1], order[b1:b2], order[b2:])


def capacity_threshold(scores: np.ndarray, capacity: float) -> float:
    """The lowest threshold at which ``score >= threshold`` flags at most ``capacity`` of ``scores``."""
    if len(scores) == 0:
        return 1.0
    k = int(np.floor(capacity * len(scores)))
    ranked = np.sort(scores)[::-1]
    if k <= 0:
        return float(np.nextafter(ranked[0], np.inf))
    threshold = ranked[k - 1]
    if int((scores >= threshold).sum()) > k:  # ties at the cut: step above them rather than overflow
        threshold = np.nextafter(threshold, np.inf)
    return float(threshold)


def _safe(metric, y: np.ndarray, s: np.ndarray) -> float | None:
    return float(metric(y, s)) if len(np.unique(y)) == 2 else None


@dataclass
class FraudModel:
    """A trained, calibrated fraud model with its threshold, metrics, history state and explanation baseline."""

    version: str
    trained_at: datetime
    training_window: dict[str, str]
    feature_names: tuple[str, ...]
    metrics: dict[str, Any]
    threshold: float
    capacity: float
    estimator: HistGradientBoostingClassifier
    calibrator: CalibratedClassifierCV
    baseline: np.ndarray
    explain_floor: float
    builder: FeatureBuilder = field(default_factory=FeatureBuilder)
    curves: dict[str, Any] = field(default_factory=dict)

    # -- scoring --------------------------------------------------------------------------------

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Calibrated fraud probabilities of a feature matrix."""
        with threadpool_limits(1):  # see score_matrix
            return np.clip(self.calibrator.predict_proba(X)[:, 1], 0.0, 1.0)

    def reasons(self, X: np.ndarray, scores: np.ndarray | None = None) -> list[tuple[str, ...]]:
        """Up to three plain-words reasons per row, for rows at or above the explanation floor or threshold."""
        scores = self.predict(X) if scores is None else scores
        out: list[tuple[str, ...]] = [() for _ in range(len(X))]
        rows = np.flatnonzero(scores >= min(self.explain_floor, self.threshold))
        if not len(rows):
            return out
        Xe = X[rows]
        base = self.estimator.decision_function(Xe)
        groups = list(GROUP_COLUMNS)
        deltas = np.empty((len(rows), len(groups)))
        for g, group in enumerate(groups):
            masked = Xe.copy()
            cols = GROUP_COLUMNS[group]
            masked[:, cols] = self.baseline[cols]
            deltas[:, g] = base - self.estimator.decision_function(masked)
        for r, i in enumerate(rows):
            said: list[str] = []
            for g in np.argsort(-deltas[r], kind="stable"):
                if deltas[r, g] <= 0 and said:
                    break
                phrase = describe(groups[g], Xe[r])
                if phrase and phrase not in said:
                    said.append(phrase)
                if len(said) == MAX_REASONS:
                    break
            out[i] = tuple(said)
        return out

    def score_matrix(self, X: np.ndarray) -> list[FraudAssessment]:
        """Assessments of a feature matrix (rows already computed with history)."""
        # One thread: scoring is many small predictions, where OpenMP's thread start-up and spinning
        # cost more than they save (measured 7x slower on a busy 2-core machine).
        with threadpool_limits(1):
            scores = self.predict(X)
            reasons = self.reasons(X, scores)
        return [FraudAssessment(score=float(s), reasons=r, model_version=self.version)
                for s, r in zip(scores, reasons, strict=True)]

    def score(self, orders: Sequence[Mapping[str, Any]],
              builder: FeatureBuilder | None = None) -> list[FraudAssessment]:
        """Assess REST orders in one batch (in input order), with history from ``builder``.

        ``builder`` defaults to the model's own history (the training orders plus everything scored
        since); scored orders are recorded into it, so later orders see earlier ones, as in production.
        """
        return self.score_matrix((builder or self.builder).transform(orders))

    def decide(self, score: float) -> str:
        """``review`` when the score reaches the capacity threshold, else ``approve``."""
        return "review" if score >= self.threshold else "approve"

    # -- persistence ----------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        """What is known about this model, as JSON-ready data."""
        return {
            "version": self.version,
            "trained_at": self.trained_at.isoformat(),
            "training_window": self.training_window,
            "feature_names": list(self.feature_names),
            "metrics": self.metrics,
            "threshold": self.threshold,
            "capacity": self.capacity,
            "explain_floor": self.explain_floor,
            "curves": self.curves,
        }

    def save(self, directory: Path) -> Path:
        """Write ``model.joblib`` (estimators, baseline, history) and ``manifest.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"estimator": self.estimator, "calibrator": self.calibrator, "baseline": self.baseline,
                     "builder": self.builder}, directory / MODEL_FILE, compress=3)
        (directory / MANIFEST_FILE).write_text(json.dumps(self.manifest(), indent=2, sort_keys=True))
        return directory

    @classmethod
    def load(cls, directory: Path) -> FraudModel:
        """Read a model written by :meth:`save`; refuses one built for other features."""
        directory = Path(directory)
        manifest = json.loads((directory / MANIFEST_FILE).read_text())
        if tuple(manifest["feature_names"]) != FEATURE_NAMES:
            raise ValueError(f"model {manifest['version']} was trained on other features than this code computes")
        parts = joblib.load(directory / MODEL_FILE)
        return cls(
            version=manifest["version"], trained_at=datetime.fromisoformat(manifest["trained_at"]),
            training_window=manifest["training_window"], feature_names=tuple(manifest["feature_names"]),
            metrics=manifest["metrics"], threshold=float(manifest["threshold"]),
            capacity=float(manifest["capacity"]), estimator=parts["estimator"], calibrator=parts["calibrator"],
            baseline=parts["baseline"], explain_floor=float(manifest["explain_floor"]), builder=parts["builder"],
            curves=manifest.get("curves", {}),
        )


def train_fraud_model(
    orders: Sequence[Mapping[str, Any]],
    labels: Mapping[int, int],
    *,
    capacity: float = 0.02,
    valid_fraction: float = 0.2,
    test_fraction: float = 0.2,
    trained_at: datetime | None = None,
    version: str | None = None,
    max_iter: int = 250,
    incumbent: FraudModel | None = None,
) -> FraudModel:
    """Train, calibrate, threshold and evaluate a fraud model on ``orders`` with ``labels`` (order id -> 0/1).

    ``orders`` (REST dicts) all feed the history features, labelled or not; only labelled orders
    with a readable ``created_at`` become training rows. Build ``labels`` with
    :func:`~oms_pipeline.domain.fraud.labels.labels_as_of` so they hold only what was known at the
    training cutoff. Metrics are on the newest ``test_fraction`` of labelled rows; the threshold
    flags at most ``capacity`` of the validation slice. With ``incumbent`` (the model in use), its
    ROC-AUC and PR-AUC on the same test slice are reported too (``incumbent_*``), so a promotion
    check compares both models on the same, newest orders rather than on their own test windows.
    """
    builder = FeatureBuilder()
    X_all = builder.transform(orders)
    keep, ts, y = [], [], []
    for i, order in enumerate(orders):
        stamp = parse_timestamp(order.get("created_at"))
        try:
            label = labels.get(int(order.get("id")))
        except (TypeError, ValueError):
            label = None
        if stamp is None or label is None:
            continue
        keep.append(i)
        ts.append(stamp[0])
        y.append(int(label))
    X, y_arr, ts_arr = X_all[keep], np.array(y), np.array(ts)
    split = time_ordered_split(ts_arr, valid_fraction, test_fraction)
    for name, idx in (("train", split.train), ("validation", split.valid)):
        if len(np.unique(y_arr[idx])) < 2:
            raise ValueError(f"the {name} slice needs both fraud and legitimate labels ({len(idx)} rows)")
    Xt, yt = X[split.train], y_arr[split.train]
    Xv, yv = X[split.valid], y_arr[split.valid]
    Xs, ys = X[split.test], y_arr[split.test]

    # Class weights instead of resampling: every legitimate order still teaches the model what normal is.
    estimator = HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=0.05, max_leaf_nodes=31, min_samples_leaf=40, l2_regularization=1.0,
        class_weight="balanced", early_stopping=False, random_state=0,
    ).fit(Xt, yt)
    # Sigmoid (not isotonic) calibration: monotone without ties, so ranking and the capacity cut survive.
    calibrator = CalibratedClassifierCV(FrozenEstimator(estimator), method="sigmoid").fit(Xv, yv)
    valid_scores = np.clip(calibrator.predict_proba(Xv)[:, 1], 0, 1)
    threshold = capacity_threshold(valid_scores, capacity)
    legit = Xt[yt == 0]
    with np.errstate(all="ignore"):
        baseline = np.array([np.nanmedian(col) if np.isfinite(col).any() else np.nan for col in legit.T])

    metrics: dict[str, Any] = {
        "capacity": capacity,
        "rows_total": len(orders), "rows_labelled": len(keep),
        "rows_train": len(split.train), "rows_validation": len(split.valid), "rows_test": len(split.test),
        "positives_train": int(yt.sum()), "positives_validation": int(yv.sum()), "positives_test": int(ys.sum()),
    }
    curves: dict[str, Any] = {}
    reference_scores = None
    reference = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    ref_cols = [FEATURE_INDEX[name] for name in REFERENCE_FEATURES]

    def reference_matrix(M: np.ndarray) -> np.ndarray:
        R = np.nan_to_num(M[:, ref_cols], nan=0.0)
        R[:, 0] = np.log1p(R[:, 0])
        return R

    reference.fit(reference_matrix(Xt), yt)
    if len(split.test):
        test_scores = np.clip(calibrator.predict_proba(Xs)[:, 1], 0, 1)
        reference_scores = reference.predict_proba(reference_matrix(Xs))[:, 1]
        flagged = test_scores >= threshold
        tp = int((flagged & (ys == 1)).sum())
        metrics.update(
            roc_auc=_safe(roc_auc_score, ys, test_scores),
            pr_auc=_safe(average_precision_score, ys, test_scores),
            reference_pr_auc=_safe(average_precision_score, ys, reference_scores),
            reference_roc_auc=_safe(roc_auc_score, ys, reference_scores),
            brier=float(brier_score_loss(ys, test_scores, labels=[0, 1])),
            base_rate_test=float(ys.mean()),
            flagged_share_test=float(flagged.mean()),
            precision_at_capacity=tp / int(flagged.sum()) if flagged.any() else None,
            recall_at_capacity=tp / int(ys.sum()) if ys.any() else None,
        )
        if len(np.unique(ys)) == 2:
            curves = evaluation_curves(ys, test_scores)
        if incumbent is not None:
            incumbent_scores = incumbent.predict(Xs)
            metrics.update(incumbent_version=incumbent.version,
                           incumbent_roc_auc=_safe(roc_auc_score, ys, incumbent_scores),
                           incumbent_pr_auc=_safe(average_precision_score, ys, incumbent_scores))
    first = datetime.fromtimestamp(float(ts_arr.min()), UTC) if len(ts_arr) else None
    fit_end = np.concatenate([split.train, split.valid])
    last = datetime.fromtimestamp(float(ts_arr[fit_end].max()), UTC) if len(fit_end) else None
    window = {"start": first.isoformat() if first else "", "end": last.isoformat() if last else "",
              "test_start": (datetime.fromtimestamp(float(ts_arr[split.test].min()), UTC).isoformat()
                             if len(split.test) else "")}
    trained_at = trained_at or datetime.now(UTC)
    digest = hashlib.sha256(np.ascontiguousarray(np.nan_to_num(Xt)).tobytes() + yt.tobytes()).hexdigest()[:8]
    return FraudModel(
        version=version or f"fraud-hgb-{trained_at:%Y%m%dT%H%M%SZ}-{digest}",
        trained_at=trained_at, training_window=window, feature_names=FEATURE_NAMES, metrics=metrics,
        threshold=threshold, capacity=capacity, estimator=estimator, calibrator=calibrator, baseline=baseline,
        explain_floor=float(np.quantile(valid_scores, EXPLAIN_QUANTILE)), builder=builder, curves=curves,
    )


def evaluation_curves(y: np.ndarray, scores: np.ndarray, bins: int = 10, points: int = 200) -> dict[str, Any]:
    """Reliability curve (mean predicted vs observed fraud rate per score bin) and PR curve, as lists."""
    observed, predicted = calibration_curve(y, scores, n_bins=bins, strategy="quantile")
    precision, recall, _ = precision_recall_curve(y, scores)
    step = max(1, len(precision) // points)
    return {
        "reliability": {"predicted": predicted.round(5).tolist(), "observed": observed.round(5).tolist()},
        "pr": {"precision": precision[::step].round(5).tolist(), "recall": recall[::step].round(5).tolist()},
    }


def _png(draw) -> bytes:
    # Figure + Agg canvas directly: no pyplot global state, safe in Dagster's worker processes.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.5, 4), dpi=100)
    FigureCanvasAgg(figure)
    draw(figure.add_subplot(1, 1, 1))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def reliability_png(curves: Mapping[str, Any]) -> bytes:
    """The reliability plot (``curves["reliability"]`` of :func:`evaluation_curves`) as PNG bytes."""
    data = curves["reliability"]

    def draw(ax) -> None:
        top = max([*data["predicted"], *data["observed"], 0.01])
        ax.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect")
        ax.plot(data["predicted"], data["observed"], marker="o", label="model")
        ax.set_xlabel("predicted fraud probability")
        ax.set_ylabel("observed fraud rate")
        ax.set_title("Reliability (test slice)")
        ax.legend()

    return _png(draw)


def pr_curve_png(curves: Mapping[str, Any]) -> bytes:
    """The precision-recall curve (``curves["pr"]`` of :func:`evaluation_curves`) as PNG bytes."""
    data = curves["pr"]

    def draw(ax) -> None:
        ax.plot(data["recall"], data["precision"])
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_title("Precision-recall (test slice)")

    return _png(draw)


def fresh_copy(model: FraudModel) -> FraudModel:
    """A copy of ``model`` whose history can be extended without touching the original's."""
    clone = copy.copy(model)
    clone.builder = copy.deepcopy(model.builder)
    return clone
