"""The `oms` command line: every command answers --help; `ingest` prints one JSON line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from oms_pipeline.cli import app

COMMANDS = [[], ["demo"], ["ingest"], ["sandbox"], ["sandbox", "serve"], ["ui"], ["migrate"], ["bench"],
            ["bench", "ingest"], ["bench", "decide"], ["bench", "writeback"], ["holds"], ["holds", "release"],
            ["review"], ["review", "list"], ["review", "approve"], ["review", "reject"], ["fraud"],
            ["fraud", "train"], ["fraud", "score"], ["notes"], ["notes", "parse"], ["bench", "notes"],
            ["bench", "fraud"], ["fraud", "models"], ["fraud", "retrain"], ["fraud", "rollback"],
            ["fraud", "review"], ["reconcile"], ["bench", "reconcile"], ["doctor"], ["bench", "crash"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "oms")
def test_every_command_has_help(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


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


def test_doctor_names_each_failing_check_with_its_fix(tmp_path, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from oms_pipeline.domain.writeback.actions import ActionKind, Workflow, WriteAction
    from oms_pipeline.storage.outbox import OPEN
    from oms_pipeline.storage.warehouse import Warehouse

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("OMS_SHOPIFY_URL", "http://127.0.0.1:9")  # the sandbox store, not running
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1
    failing = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert failing[0].startswith("FAIL  dagster instance   DAGSTER_HOME") and "fix: `oms ui`" in failing[0]
    assert failing[1].startswith("FAIL  warehouse          no warehouse at") and "fix: oms migrate" in failing[1]
    assert CliRunner().invoke(app, ["migrate"]).exit_code == 0
    (tmp_path / "dagster_home").mkdir()
    healthy = CliRunner().invoke(app, ["doctor"])
    assert healthy.exit_code == 0, healthy.output
    assert [line.split()[:2] for line in healthy.output.splitlines()] == [
        ["ok", "settings"], ["ok", "dagster"], ["ok", "warehouse"], ["ok", "writeback"], ["ok", "uncertain"],
        ["ok", "quality"], ["ok", "store"], ["ok", "3pl"], ["ok", "carrier"], ["ok", "slack"], ["ok", "zendesk"]]
    assert "the sandbox is not running" in healthy.output
    # A hold a run intended two hours ago and nobody sent since.
    wh = Warehouse(f"duckdb:///{tmp_path / '.oms' / 'warehouse.duckdb'}")
    hold = WriteAction(shop_domain="oms-sandbox.myshopify.com", order_id="1001", order_version="v",
                       workflow=Workflow.HOLDS, kind=ActionKind.PLACE_HOLD, trace_id="t",
                       payload={"handle": "oms-x", "reason": "OTHER", "rule_id": "x", "reason_notes": "x"})
    wh.outbox.add("run-dead", [hold], OPEN, datetime.now(UTC) - timedelta(hours=2))
    wh.dispose()
    stale = CliRunner().invoke(app, ["doctor"])
    assert stale.exit_code == 1
    line = next(line for line in stale.output.splitlines() if "writeback" in line)
    assert line.startswith("FAIL") and "1 intended writes unsent for more than 60 min: holds 1 (open" in line
    assert "fix: " in line and "oms ingest --once" in line


def test_ingest_without_once_is_refused():
    result = CliRunner().invoke(app, ["ingest"])
    assert result.exit_code != 0 and "--once" in result.output


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


def test_notes_parse_writes_the_tags_contract(tmp_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text(
        '{"id": "1", "note": "Gift for my mum, no prices on the slip please", "created_at": "2026-11-24T10:00:00Z"}\n'
        '{"id": "2", "note": "Bitte stornieren, doppelt bestellt.", "created_at": "2026-11-24T10:00:00Z"}\n'
        '{"id": "3", "created_at": "yesterday"}\n')
    result = CliRunner().invoke(app, ["notes", "parse", "--in", str(notes), "--out", str(tmp_path / "tags.jsonl"),
                                      "--engine", "local"])
    assert result.exit_code == 0, result.output
    assert "line 3: created_at" in result.output
    lines = [json.loads(line) for line in (tmp_path / "tags.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ["1", "2"]
    assert set(lines[0]) == {"id", "tags", "deliver_by", "hold_until", "engine", "confidence"}
    assert "gift" in lines[0]["tags"] and lines[1]["tags"] == ["cancel_request"]
    assert all(line["engine"] == "local" and 0 <= line["confidence"] <= 1 for line in lines)


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
