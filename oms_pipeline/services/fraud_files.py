"""File contracts of the fraud model and its benchmark, for the ``oms fraud`` / ``oms bench`` CLI.

- ``ORDERS.jsonl``: one Shopify REST ``orders.json`` element per line, sorted by ``created_at`` (the
  reader sorts anyway); any field may be missing or null.
- ``LABELS.csv``: header ``order_id,label`` with ``label`` 1 (fraud) or 0.
- ``SCORES.csv``: header ``order_id,fraud_score,decision,reasons``; ``fraud_score`` in [0, 1],
  ``decision`` ``approve`` or ``review``, ``reasons`` up to three phrases joined by ``;``.

Bad input never stops a batch and is never dropped silently: a line that is not a JSON object, has
no ``id``, or has no readable timezone-aware ``created_at`` (without which an order cannot be placed
in the history) is skipped and reported as ``{"line": n, "field": ..., "error": ...}`` in the returned
dict (first 100) with ``skipped_count``; ``score_files`` also writes them all to
``<SCORES stem>.errors.csv`` next to the scores. Other missing or malformed fields only make the
features that need them missing.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from oms_pipeline.domain.fraud.features import parse_timestamp
from oms_pipeline.domain.fraud.model import FraudModel, train_fraud_model

SCORES_HEADER = ("order_id", "fraud_score", "decision", "reasons")
ERRORS_SHOWN = 100


def _error(line: int, field: str, error: str) -> dict[str, Any]:
    return {"line": line, "field": field, "error": error}


def read_orders_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(orders sorted by created_at, errors)`` from a JSON Lines file; blank lines are ignored."""
    orders: list[tuple[float, int, dict[str, Any]]] = []
    errors: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as handle:
        for n, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                order = json.loads(text)
            except json.JSONDecodeError as exc:
                errors.append(_error(n, "(line)", f"not valid JSON: {exc.msg} at column {exc.colno}"))
                continue
            if not isinstance(order, dict):
                errors.append(_error(n, "(line)", f"expected a JSON object, got {type(order).__name__}"))
                continue
            if order.get("id") in (None, "") or isinstance(order.get("id"), bool | dict | list):
                errors.append(_error(n, "id", "missing or not an order id"))
                continue
            stamp = parse_timestamp(order.get("created_at"))
            if stamp is None:
                errors.append(_error(n, "created_at", f"missing or not an ISO 8601 time with offset: "
                                                      f"{str(order.get('created_at'))[:40]!r}"))
                continue
            orders.append((stamp[0], n, order))
    orders.sort(key=lambda item: (item[0], item[1]))
    return [order for _, _, order in orders], errors


def read_labels_csv(path: Path) -> tuple[dict[int, int], list[dict[str, Any]]]:
    """``(order id -> 0/1, errors)`` from ``LABELS.csv`` (header ``order_id,label``)."""
    labels: dict[int, int] = {}
    errors: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"order_id", "label"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: line 1: header must have order_id,label (missing {', '.join(sorted(missing))})")
        for n, row in enumerate(reader, start=2):
            raw_id, raw_label = (row.get("order_id") or "").strip(), (row.get("label") or "").strip()
            try:
                order_id = int(raw_id)
            except ValueError:
                errors.append(_error(n, "order_id", f"not an integer order id: {raw_id[:40]!r}"))
                continue
            if raw_label not in ("0", "1"):
                errors.append(_error(n, "label", f"must be 0 or 1, got {raw_label[:20]!r}"))
                continue
            labels[order_id] = int(raw_label)
    return labels, errors


def train_from_files(orders_jsonl: Path, labels_csv: Path, model_out: Path, *, capacity: float = 0.02) -> dict:
    """Train a fraud model from ``ORDERS.jsonl`` + ``LABELS.csv``, save it to ``model_out``, return its metrics.

    Every readable order feeds the history features; labelled ones are the training rows, split by
    time (oldest 60% train, next 20% calibration and threshold, newest 20% test). The labels are
    taken as given: make sure they hold only what was known at the training cutoff.
    """
    orders, order_errors = read_orders_jsonl(orders_jsonl)
    labels, label_errors = read_labels_csv(labels_csv)
    known = {int(o["id"]) for o in orders if str(o["id"]).lstrip("-").isdigit()}
    model = train_fraud_model(orders, labels, capacity=capacity)
    model.save(Path(model_out))
    errors = [{"file": "orders", **e} for e in order_errors] + [{"file": "labels", **e} for e in label_errors]
    return {
        "model_version": model.version,
        "model_dir": str(model_out),
        "threshold": model.threshold,
        "training_window": model.training_window,
        **model.metrics,
        "labels_without_order": sum(1 for order_id in labels if order_id not in known),
        "skipped_count": len(errors),
        "errors": errors[:ERRORS_SHOWN],
    }


def score_files(model_dir: Path, orders_jsonl: Path, out_csv: Path) -> dict:
    """Score ``ORDERS.jsonl`` with the model in ``model_dir`` and write ``SCORES.csv`` to ``out_csv``.

    History features come from the model's training orders and from the orders earlier in this
    file, as in production. Returns counts, the model version and threshold, and skipped lines.
    """
    model = FraudModel.load(Path(model_dir))
    orders, errors = read_orders_jsonl(orders_jsonl)
    assessments = model.score(orders)
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    flagged = 0
    with out_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SCORES_HEADER)
        for order, assessment in zip(orders, assessments, strict=True):
            decision = model.decide(assessment.score)
            flagged += decision == "review"
            writer.writerow((order["id"], f"{assessment.score:.6f}", decision, ";".join(assessment.reasons)))
    errors_csv = None
    if errors:
        errors_csv = out_csv.with_name(f"{out_csv.stem}.errors.csv")
        with errors_csv.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=("line", "field", "error"))
            writer.writeheader()
            writer.writerows(errors)
    return {
        "model_version": model.version,
        "threshold": model.threshold,
        "orders_scored": len(orders),
        "flagged": flagged,
        "flagged_share": flagged / len(orders) if orders else 0.0,
        "out_csv": str(out_csv),
        "errors_csv": str(errors_csv) if errors_csv else None,
        "skipped_count": len(errors),
        "errors": errors[:ERRORS_SHOWN],
    }


