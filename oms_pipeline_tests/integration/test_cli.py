"""The `oms` command line on the warehouse and on files: `doctor` names each failing check with its fix,
`notes parse` writes the tags contract."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from oms_pipeline.cli import app


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
