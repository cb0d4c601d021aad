"""The `oms` command line: every command answers --help; `ingest` prints one JSON line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from oms_pipeline.cli import app

COMMANDS = [[], ["demo"], ["ingest"], ["sandbox"], ["sandbox", "serve"], ["ui"], ["migrate"], ["bench"],
            ["bench", "ingest"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "oms")
def test_every_command_has_help(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_ingest_once_prints_one_json_line(tmp_path, monkeypatch):
    from oms_pipeline.sandbox.server import SandboxServer
    from oms_pipeline.sandbox.store import SandboxStore

    store = SandboxStore(seed=6, orders=20, rate_per_min=0.0, malformed_rate=0.1)
    with SandboxServer(store, seed=1) as sandbox:
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        monkeypatch.setenv("OMS_SHOPIFY_URL", sandbox.url)
        monkeypatch.setenv("OMS_SHOP_DOMAIN", sandbox.shop_domain)
        result = CliRunner().invoke(app, ["ingest", "--once"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["success"] is True
    assert summary["events_landed"] == summary["orders_written"] + summary["quarantined"] > 0
    assert (tmp_path / ".oms" / "warehouse.duckdb").exists()


def test_ingest_without_once_is_refused():
    result = CliRunner().invoke(app, ["ingest"])
    assert result.exit_code != 0 and "--once" in result.output
