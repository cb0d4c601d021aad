"""The one settings object: every knob is an ``OMS_`` environment variable (or a ``.env`` line)."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SHOPIFY_API_VERSION = "2025-01"


class OmsSettings(BaseSettings):
    """Configuration of one oms-pipeline deployment.

    Defaults are the embedded ones: a DuckDB warehouse and a SQLite Dagster instance under
    ``./.oms/``, and a sandbox store on loopback.
    """

    model_config = SettingsConfigDict(env_prefix="OMS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".oms"), description="Where embedded data lives.")
    warehouse_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the warehouse; default duckdb:///<data_dir>/warehouse.duckdb. "
        "PostgreSQL: postgresql+psycopg2://user@host:5432/db",
    )
    shop_domain: str = Field(default="oms-sandbox.myshopify.com", description="The store's myshopify domain.")
    shopify_url: str | None = Field(
        default=None, description="Base URL of the Admin API; default https://<shop_domain>."
    )
    shopify_token: SecretStr = Field(default=SecretStr("shpat_sandbox_token"), description="Admin API token.")
    shopify_api_version: str = SHOPIFY_API_VERSION
    shopify_api: Literal["graphql", "rest"] = "graphql"
    shopify_timeout_s: float = 20.0
    shopify_max_attempts: int = 6
    ingest_overlap_s: int = Field(
        default=120, description="How far before the high-water mark each poll starts again (late index writes)."
    )
    ingest_start: str | None = Field(
        default=None, description="ISO timestamp of the first poll's lower bound; default: all history."
    )

    # -- decisions and writeback ----------------------------------------------------------------
    triage_rules_file: Path | None = Field(
        default=None, description="Triage rules YAML; default: the rules shipped in domain/decisions.")
    network_file: Path | None = Field(
        default=None, description="NETWORK.json (locations with stock, carrier services); default: the sandbox's.")
    hold_recheck_hours: float = Field(default=24.0, gt=0, description="When an on-hold order is triaged again.")
    rollout_triage_tags: Literal["shadow", "assisted", "auto"] = "shadow"
    rollout_holds: Literal["shadow", "assisted", "auto"] = "shadow"
    rollout_routing: Literal["shadow", "assisted", "auto"] = "shadow"
    rollout_notifications: Literal["shadow", "assisted", "auto"] = "shadow"
    confidence_threshold: float = Field(default=0.8, ge=0, le=1,
                                        description="auto mode acts at or above this confidence, else queues.")
    breaker_max_share: float = Field(default=0.5, gt=0, le=1,
                                     description="Largest share of a run's orders that may get disruptive writes.")
    breaker_min_orders: int = Field(default=20, ge=1, description="Runs smaller than this never trip the breaker.")
    slack_webhook_url: SecretStr | None = Field(default=None, description="Slack incoming webhook for exceptions.")
    zendesk_url: str | None = Field(default=None, description="https://<subdomain>.zendesk.com")
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None

    @cached_property
    def resolved_warehouse_url(self) -> str:
        """The warehouse URL, defaulting to a DuckDB file in the data directory."""
        if self.warehouse_url:
            return self.warehouse_url
        return f"duckdb:///{(self.data_dir / 'warehouse.duckdb').resolve()}"

    @cached_property
    def resolved_shopify_url(self) -> str:
        """The Admin API base URL (no trailing slash)."""
        return (self.shopify_url or f"https://{self.shop_domain}").rstrip("/")

    @property
    def dagster_home(self) -> Path:
        """``DAGSTER_HOME`` if set, else ``<data_dir>/dagster_home``."""
        return Path(os.environ.get("DAGSTER_HOME") or (self.data_dir / "dagster_home")).resolve()


def ensure_dagster_home(settings: OmsSettings) -> Path:
    """Point ``DAGSTER_HOME`` at a directory with a SQLite instance unless the user chose one.

    Dagster builds a SQLite instance in an empty home by itself; we only make sure the directory
    exists and that a ``dagster.yaml`` is there (limits concurrent runs, since DuckDB is single-writer).
    """
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(
            "# Written by oms-pipeline: embedded SQLite instance (Dagster's default storage).\n"
            "run_coordinator:\n"
            "  module: dagster._core.run_coordinator\n"
            "  class: QueuedRunCoordinator\n"
            "  config:\n"
            "    max_concurrent_runs: 1\n"
            "telemetry:\n"
            "  enabled: false\n"
        )
    return home
