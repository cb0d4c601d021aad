"""The code location refuses to load against a real store while a setting falls back to a sandbox value."""

from __future__ import annotations

import pytest

from oms_pipeline.settings import OmsSettings, SandboxFallback

REAL = {"shop_domain": "acme.myshopify.com"}


def test_the_code_location_refuses_to_load_with_sandbox_values(tmp_path):
    from oms_pipeline.definitions import build_definitions

    with pytest.raises(SandboxFallback, match="OMS_SHOPIFY_TOKEN"):
        build_definitions(OmsSettings(**REAL, network_file=tmp_path / "n.json", _env_file=None))
