"""A deployment against a real store refuses sandbox values before anything is sent (`oms ingest` in its
own process exits 2), and `oms doctor` checks the store, its access scopes and every configured channel
over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from oms_pipeline.cli import app


def test_ingest_against_a_real_store_without_a_network_exits_2_before_anything(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMS_", "DAGSTER_HOME"))}
    env["OMS_SHOP_DOMAIN"] = "acme.myshopify.com"
    done = subprocess.run([sys.executable, "-m", "oms_pipeline.cli", "ingest", "--once"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("error: refusing to start against https://acme.myshopify.com: OMS_NETWORK_FILE")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / ".oms").exists()  # no warehouse, no Dagster home: nothing ran


def _doctor(monkeypatch, tmp_path, settings: dict) -> list[list[str]]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    for name, value in settings.items():
        monkeypatch.setenv(f"OMS_{name.upper()}", str(value))
    result = CliRunner().invoke(app, ["doctor"])
    return result.exit_code, result.output.splitlines()


def test_doctor_passes_against_the_sandbox_and_its_channels(tmp_path, monkeypatch):
    from oms_pipeline.sandbox.server import SandboxServer

    with SandboxServer(seed=3) as sandbox:
        assert CliRunner().invoke(app, ["migrate"], env={"OMS_DATA_DIR": str(tmp_path / ".oms")}).exit_code == 0
        channels = {k: v for k, v in sandbox.channel_settings().items() if v is not None}
        code, lines = _doctor(monkeypatch, tmp_path, {"shopify_url": sandbox.url, "data_dir": tmp_path / ".oms",
                                                      "rollout_holds": "auto", **channels})
        assert code == 0, lines
        verdicts = {line.split()[1]: line for line in lines}
        assert list(verdicts) == ["settings", "dagster", "warehouse", "writeback", "uncertain", "quality", "store",
                                  "3pl", "carrier", "slack", "zendesk"]
        assert all(line.startswith("ok") for line in lines), lines
        assert "access scopes the enabled workflows need are granted" in verdicts["store"]
        assert "signed in as a agent" in verdicts["zendesk"] and "API key accepted" in verdicts["carrier"]
        assert "reachable" in verdicts["slack"] and "0 shipments" in verdicts["3pl"]
        for secret in ("shpat_sandbox_token", channels["zendesk_api_token"], channels["slack_webhook_url"]):
            assert not any(secret in line for line in lines)

        code, lines = _doctor(monkeypatch, tmp_path, {"shopify_token": "shpat_wrong", "zendesk_api_token": "nope"})
        failing = {line.split()[1]: line for line in lines if line.startswith("FAIL")}
        assert code == 1 and sorted(failing) == ["store", "zendesk"], lines
        assert "access token refused (401)" in failing["store"] and "fix: check OMS_SHOPIFY_TOKEN" in failing["store"]
        assert "fix: check OMS_ZENDESK_URL" in failing["zendesk"]
        assert not any("shpat_wrong" in line or "nope" in line for line in lines)


def test_doctor_names_the_access_scopes_a_writing_workflow_lacks(tmp_path, monkeypatch):
    from oms_pipeline.sandbox.server import SandboxServer

    with SandboxServer(seed=3, access_scopes=("read_orders", "read_shopify_payments_disputes", "write_orders")) as sb:
        code, lines = _doctor(monkeypatch, tmp_path, {"shopify_url": sb.url, "rollout_holds": "assisted"})
    store = next(line for line in lines if line.split()[1] == "store")
    assert code == 1 and store.startswith("FAIL")
    assert "missing access scopes read_merchant_managed_fulfillment_orders (for holds (assisted)); " \
           "write_merchant_managed_fulfillment_orders (for holds (assisted))" in store
