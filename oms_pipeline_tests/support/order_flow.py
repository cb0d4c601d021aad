"""Settings and a store for running the order flow on Dagster against the sandbox."""

from __future__ import annotations

from pathlib import Path

from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.settings import OmsSettings

# Every workflow that writes, in auto mode (a new install starts with all of them in shadow mode).
AUTO = {"rollout_triage_tags": "auto", "rollout_holds": "auto", "rollout_routing": "auto",
        "rollout_notifications": "auto"}


def settings(sandbox: SandboxServer, tmp_path: Path, **extra) -> OmsSettings:
    """Settings for ``sandbox`` and its channels, with the data and a DuckDB warehouse in ``tmp_path``."""
    return OmsSettings(data_dir=tmp_path, warehouse_url=f"duckdb:///{tmp_path / 'wh.duckdb'}",
                       shopify_url=sandbox.url, shop_domain=sandbox.shop_domain, shopify_token=sandbox.token,
                       shopify_timeout_s=0.5, **sandbox.channel_settings(), **extra)


def store(seed: int = 5, orders: int = 60) -> SandboxStore:
    """A sandbox store with 5% malformed orders and no new orders arriving by themselves."""
    return SandboxStore(seed=seed, orders=orders, rate_per_min=0.0, malformed_rate=0.05)
