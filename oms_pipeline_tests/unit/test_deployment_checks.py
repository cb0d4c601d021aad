"""A deployment against a real store refuses sandbox values before anything is sent: the settings name
each sandbox fallback, and the access scopes needed follow the workflows that write."""

from __future__ import annotations

import pytest

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
