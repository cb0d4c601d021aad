"""The `oms` command line running the code location's jobs against the sandbox: `ingest --once` prints one
JSON line; the review queue, hold release and fraud operator commands after it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from oms_pipeline.cli import app


def _point_at(sandbox, tmp_path, monkeypatch) -> None:
    """Run the CLI in ``tmp_path`` (embedded defaults there) against ``sandbox``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("OMS_SHOPIFY_URL", sandbox.url)
    monkeypatch.setenv("OMS_SHOP_DOMAIN", sandbox.shop_domain)


def test_ingest_once_prints_one_json_line(tmp_path, monkeypatch):
    from oms_pipeline.sandbox.server import SandboxServer
    from oms_pipeline.sandbox.store import SandboxStore

    store = SandboxStore(seed=6, orders=20, rate_per_min=0.0, malformed_rate=0.1)
    with SandboxServer(store, seed=1) as sandbox:
        _point_at(sandbox, tmp_path, monkeypatch)
        result = CliRunner().invoke(app, ["ingest", "--once"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["success"] is True
    assert summary["events_landed"] == summary["orders_written"] + summary["quarantined"] > 0
    assert summary["earlier_writes_finished"] == 0 and summary["writes_left_open"] == 0
    assert (tmp_path / ".oms" / "warehouse.duckdb").exists()


def test_review_queue_and_hold_release_as_an_operator(tmp_path, monkeypatch):
    from oms_pipeline.sandbox.server import SandboxServer
    from oms_pipeline.sandbox.store import SandboxStore

    store = SandboxStore(seed=4, orders=40, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, seed=1, restore_rate=20_000.0) as sandbox:
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        monkeypatch.setenv("OMS_SHOPIFY_URL", sandbox.url)
        monkeypatch.setenv("OMS_SHOP_DOMAIN", sandbox.shop_domain)
        for workflow in ("TRIAGE_TAGS", "HOLDS", "ROUTING", "NOTIFICATIONS"):
            monkeypatch.setenv(f"OMS_ROLLOUT_{workflow}", "assisted")
        for key, value in sandbox.channel_settings().items():
            monkeypatch.setenv(f"OMS_{key.upper()}", value)
        runner = CliRunner()
        assert runner.invoke(app, ["ingest", "--once"]).exit_code == 0
        assert store.stats.get("mutations", 0) == 0  # assisted: nothing written before approval

        listed = runner.invoke(app, ["review", "list"])
        items = [json.loads(line) for line in listed.output.strip().splitlines()]
        hold = next(i for i in items if i["action"] == "place_hold")
        approved = runner.invoke(app, ["review", "approve", hold["review_id"], "--by", "Dana", "--note", "ok"])
        assert approved.exit_code == 0, approved.output
        assert json.loads(approved.output.strip().splitlines()[-1])["outcomes"] == {"written": 1}
        order_id = int(hold["order_id"])
        assert [h["handle"] for h in store.writeback_state(order_id)["holds"]] == [hold["payload"]["handle"]]
        again = runner.invoke(app, ["review", "approve", hold["review_id"], "--by", "Dana"])
        assert again.exit_code == 2 and "already approved by Dana" in again.output

        other = next(i for i in items if i["review_id"] != hold["review_id"])
        rejected = runner.invoke(app, ["review", "reject", other["review_id"], "--by", "Dana", "--note", "no"])
        assert rejected.exit_code == 0 and '"rejected"' in rejected.output

        released = runner.invoke(app, ["holds", "release", str(order_id), "--by", "Dana", "--why", "checked"])
        assert released.exit_code == 0, released.output
        assert store.writeback_state(order_id)["holds"] == []
        unknown = runner.invoke(app, ["holds", "release", "#999999", "--by", "Dana", "--why", "x"])
        assert unknown.exit_code == 2 and "order #999999: not found" in unknown.output


def test_fraud_operator_commands(tmp_path, monkeypatch):
    from oms_pipeline.sandbox.server import SandboxServer
    from oms_pipeline.sandbox.store import SandboxStore

    store = SandboxStore(seed=6, orders=10, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, seed=1) as sandbox:
        _point_at(sandbox, tmp_path, monkeypatch)
        assert CliRunner().invoke(app, ["ingest", "--once"]).exit_code == 0
        order = store.records()[0]
        ok = CliRunner().invoke(app, ["fraud", "review", order.order["name"], "--outcome", "fraud", "--by", "ops-1"])
        assert ok.exit_code == 0, ok.output
        assert json.loads(ok.output.strip().splitlines()[-1]) == {"order_id": str(order.key), "outcome": "fraud",
                                                                   "by": "ops-1"}
        bad = CliRunner().invoke(app, ["fraud", "review", str(order.key), "--outcome", "maybe", "--by", "ops-1"])
        assert bad.exit_code == 2 and "Invalid value for '--outcome'" in bad.output and "'maybe'" in bad.output
        nothing = CliRunner().invoke(app, ["fraud", "rollback", "--by", "ops-1"])
        assert nothing.exit_code == 2 and "no active fraud model" in nothing.output
        assert CliRunner().invoke(app, ["fraud", "models"]).output.strip() == ""
