"""File contracts: ORDERS.jsonl + LABELS.csv -> model dir -> SCORES.csv."""

from __future__ import annotations

import csv
import json

import pytest

from oms_pipeline.services.fraud_files import SCORES_HEADER, score_files, train_from_files


@pytest.fixture(scope="module")
def files(history, matured_labels, tmp_path_factory):
    root = tmp_path_factory.mktemp("fraud-files")
    cut = 12_000
    train = root / "orders.jsonl"
    train.write_text("".join(json.dumps(o) + "\n" for o in history.orders[:cut]))
    labels = root / "labels.csv"
    rows = [f"{o['id']},{matured_labels[o['id']]}" for o in history.orders[:cut]]
    labels.write_text("order_id,label\n" + "\n".join(rows) + "\nnot-a-number,1\n")
    new = root / "new.jsonl"
    lines = [json.dumps(o) for o in history.orders[cut:cut + 3000]]
    lines[5] = "{not json"
    lines[9] = json.dumps({k: v for k, v in history.orders[cut + 9].items() if k != "created_at"})
    lines[11] = json.dumps({k: (None if k not in ("id", "created_at") else v)
                            for k, v in history.orders[cut + 11].items()})  # nulls everywhere else
    new.write_text("\n".join(lines) + "\n")
    return root, train, labels, new


def test_train_then_score_files(files) -> None:
    root, train, labels, new = files
    metrics = train_from_files(train, labels, root / "model")
    assert metrics["pr_auc"] is not None and metrics["model_version"]
    assert metrics["skipped_count"] == 1
    assert metrics["errors"][0] == {"file": "labels", "line": 12_002, "field": "order_id",
                                    "error": "not an integer order id: 'not-a-number'"}
    assert (root / "model" / "manifest.json").exists()

    result = score_files(root / "model", new, root / "scores.csv")
    assert result["orders_scored"] == 2998 and result["skipped_count"] == 2
    assert [(e["line"], e["field"]) for e in result["errors"]] == [(6, "(line)"), (10, "created_at")]
    with (root / "scores.csv").open(newline="") as handle:
        reader = csv.reader(handle)
        assert tuple(next(reader)) == SCORES_HEADER
        rows = list(reader)
    assert len(rows) == 2998
    for order_id, score, decision, reasons in rows:
        assert order_id.isdigit() and 0 <= float(score) <= 1 and decision in ("approve", "review")
        assert len([r for r in reasons.split(";") if r]) <= 3
        if decision == "review":
            assert reasons
    assert 0 < sum(r[2] == "review" for r in rows) <= 0.06 * len(rows)
    with (root / "scores.errors.csv").open(newline="") as handle:
        assert next(csv.reader(handle)) == ["line", "field", "error"]


def test_bench_reports_the_figures_the_cli_prints() -> None:
    from oms_pipeline.cli.benches import bench_fraud

    result = bench_fraud(4000, seed=2)
    for key in ("train_seconds", "score_ms_per_order", "roc_auc", "precision_at_capacity", "pr_auc",
                "reference_pr_auc"):
        assert key in result
    assert 0 <= result["roc_auc"] <= 1 and result["score_ms_per_order"] > 0


def test_cli_train_then_score(files) -> None:
    import json

    from typer.testing import CliRunner

    from oms_pipeline.cli import app

    root, train, labels, new = files
    runner = CliRunner()
    trained = runner.invoke(app, ["fraud", "train", "--orders", str(train), "--labels", str(labels),
                                  "--model-out", str(root / "cli-model")])
    assert trained.exit_code == 0, trained.output
    assert "line 12002: order_id: not an integer order id" in trained.output  # skipped line, named
    assert json.loads(trained.output.strip().splitlines()[-1])["model_version"]
    scored = runner.invoke(app, ["fraud", "score", "--model", str(root / "cli-model"), "--orders", str(new),
                                 "--out", str(root / "cli-scores.csv")])
    assert scored.exit_code == 0, scored.output
    assert (root / "cli-scores.csv").read_text().splitlines()[0] == ",".join(SCORES_HEADER)
