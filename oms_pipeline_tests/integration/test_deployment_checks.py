"""A deployment against a real store refuses sandbox values before anything is sent, and `oms doctor`
checks the store, its access scopes and every configured channel over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from oms_pipeline.cli import app
from oms_pipeline.domain.shopify.scopes import missing_scopes
from oms_pipeline.domain.writeback.actions import RolloutMode, Workflow
from oms_pipeline.settings import OmsSettings, SandboxFallback

REAL = {"shop_domain": "acme.myshopify.com"}
SHADOW = {w: RolloutMode.SHADOW for w in Workflow}


def test_a_real_store_with_nothing_set_names_each_sandbox_fallback():
    settings = OmsSettings(**REAL, network_file=None, _env_file=None)
    assert settings.resolved_shopify_url == "https://acme.myshopify.com"
    found = settings.sandbox_fallbacks()
    assert [f.split(":")[0] for f in found] == ["OMS_NETWORK_FILE", "OMS_SHOPIFY_TOKEN"]
    with pytest.raises(SandboxFallback, match=r"OMS_NETWORK_FILE: not set.*\(and 1 more"):
        settings.require_no_sandbox_fallback()


def test_sandbox_urls_and_credentials_are_refused_for_a_real_store(tmp_path):
    real = {**REAL, "network_file": tmp_path / "n.json", "shopify_token": "shpat_real",
            "shipstation_url": "https://ssapi.shipstation.com", "_env_file": None}
    settings = OmsSettings(**real, carrier_rates_url="http://127.0.0.1:9/",
                           slack_webhook_url="http://localhost:1/slack/services/T/B/x")
    assert [f.split(":")[0] for f in settings.sandbox_fallbacks()] == [
        "OMS_SHIPSTATION_API_KEY", "OMS_SHIPSTATION_API_SECRET", "OMS_CARRIER_RATES_URL", "OMS_SLACK_WEBHOOK_URL"]
    fixed = OmsSettings(**real, shipstation_api_key="k", shipstation_api_secret="s")
    assert fixed.sandbox_fallbacks() == []


def test_the_loopback_sandbox_is_the_embedded_default():
    settings = OmsSettings(_env_file=None)
    assert settings.resolved_shopify_url == "http://127.0.0.1:8787"
    assert settings.store_is_loopback_sandbox and settings.sandbox_fallbacks() == []
    assert settings.resolved_shipstation_url == "http://127.0.0.1:8787"
    assert OmsSettings(**REAL, _env_file=None).resolved_shipstation_url is None


def test_the_scopes_needed_follow_the_workflows_that_write():
    everything = ["read_orders", "read_shopify_payments_disputes", "write_orders",
                  "write_merchant_managed_fulfillment_orders"]
    assert missing_scopes(["read_orders", "read_shopify_payments_disputes"], SHADOW) == {}
    holds_on = {**SHADOW, Workflow.HOLDS: RolloutMode.AUTO}
    assert missing_scopes(["read_orders", "read_shopify_payments_disputes"], holds_on) == {
        "read_merchant_managed_fulfillment_orders": ["holds (auto)"],
        "write_merchant_managed_fulfillment_orders": ["holds (auto)"]}
    assert missing_scopes(everything, {w: RolloutMode.ASSISTED for w in Workflow}) == {}
    assert missing_scopes(["write_orders"], SHADOW) == {"read_shopify_payments_disputes": ["fraud labels (disputes)"]}


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


def test_the_code_location_refuses_to_load_with_sandbox_values(tmp_path):
    from oms_pipeline.definitions import build_definitions

    with pytest.raises(SandboxFallback, match="OMS_SHOPIFY_TOKEN"):
        build_definitions(OmsSettings(**REAL, network_file=tmp_path / "n.json", _env_file=None))


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
