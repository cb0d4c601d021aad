"""The one settings object: every knob is an ``OMS_`` environment variable (or a ``.env`` line)."""

from __future__ import annotations

import os
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from oms_pipeline.domain.writeback.actions import RolloutMode, Workflow, rollout_modes

SHOPIFY_API_VERSION = "2025-01"

# The embedded defaults: the sandbox store (``oms sandbox serve``) on loopback, with its own credentials.
# Used only while the store is that sandbox; anywhere else they are refused (see ``sandbox_fallbacks``).
SANDBOX_SHOP_DOMAIN = "oms-sandbox.myshopify.com"
SANDBOX_SHOPIFY_URL = "http://127.0.0.1:8787"
SANDBOX_SHOPIFY_TOKEN = "shpat_sandbox_token"
SANDBOX_SHIPSTATION_KEY = "ss_sandbox_key"
SANDBOX_SHIPSTATION_SECRET = "ss_sandbox_secret"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class SandboxFallback(ValueError):
    """The store is a real one but a setting still holds (or defaults to) a sandbox value."""


def is_loopback(url: str | None) -> bool:
    """Whether ``url`` points at this machine (where only the sandbox runs)."""
    return bool(url) and urlsplit(str(url)).hostname in LOOPBACK_HOSTS


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
    shop_domain: str = Field(default=SANDBOX_SHOP_DOMAIN, description="The store's myshopify domain.")
    shopify_url: str | None = Field(
        default=None, description="Base URL of the Admin API; default https://<shop_domain>, or the sandbox "
        f"at {SANDBOX_SHOPIFY_URL} while the domain is the sandbox's ({SANDBOX_SHOP_DOMAIN})."
    )
    shopify_token: SecretStr = Field(default=SecretStr(SANDBOX_SHOPIFY_TOKEN),
                                     description="Admin API token (the default is the sandbox's).")
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
        default=None, description="NETWORK.json (locations with their kind, stock, carrier services). Required "
        "to decide orders; `oms ui` and `oms demo` write the sandbox's when the store is the sandbox.")
    # -- routing --
    routing_time_limit_s: float = Field(default=10.0, gt=0,
                                        description="Time limit of the batch optimizer (MILP) per planning run.")
    carrier_rates_url: str | None = Field(
        default=None, description="Carrier rates API (EasyPost shape) to rate-shop each planned shipment; "
                                  "default: none, shipments keep their rate-card service.")
    carrier_rates_api_key: SecretStr | None = Field(default=None, description="API key of the carrier rates API.")
    rates_cache_ttl_s: float = Field(default=900.0, gt=0, description="How long a carrier rate quote is reused.")
    hold_recheck_hours: float = Field(default=24.0, gt=0, description="When an on-hold order is triaged again.")
    rollout_triage_tags: Literal["shadow", "assisted", "auto"] = "shadow"
    rollout_holds: Literal["shadow", "assisted", "auto"] = "shadow"
    rollout_routing: Literal["shadow", "assisted", "auto"] = "shadow"
    rollout_notifications: Literal["shadow", "assisted", "auto"] = "shadow"
    # -- 3PL --
    rollout_handoff: Literal["shadow", "assisted", "auto"] = "shadow"
    shipstation_url: str | None = Field(
        default=None, description="ShipStation API base URL (https://ssapi.shipstation.com); default: the "
        "sandbox's own 3PL when OMS_SHOPIFY_URL points at a loopback sandbox, else no 3PL.")
    shipstation_api_key: SecretStr = Field(default=SecretStr(SANDBOX_SHIPSTATION_KEY),
                                           description="ShipStation API key (Basic auth user).")
    shipstation_api_secret: SecretStr = Field(default=SecretStr(SANDBOX_SHIPSTATION_SECRET),
                                              description="ShipStation API secret (Basic auth password).")
    confidence_threshold: float = Field(default=0.8, ge=0, le=1,
                                        description="auto mode acts at or above this confidence, else queues.")
    breaker_max_share: float = Field(default=0.5, gt=0, le=1,
                                     description="Largest share of a run's orders that may get disruptive writes.")
    breaker_min_orders: int = Field(default=20, ge=1, description="Runs smaller than this never trip the breaker.")
    writeback_max_attempts: int = Field(
        default=8, ge=1, description="Failed sends of one write before an operator is asked whether to go on "
        "trying (until then each run's writeback tries again).")
    writeback_max_unsent_minutes: float = Field(
        default=60.0, gt=0, description="An intended write still unsent after this long makes the "
        "writeback_outbox_drained check warn and `oms doctor` fail.")
    slack_webhook_url: SecretStr | None = Field(default=None, description="Slack incoming webhook for exceptions.")
    zendesk_url: str | None = Field(default=None, description="https://<subdomain>.zendesk.com")
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None

    # -- fraud model ------------------------------------------------------------------------------
    fraud_review_capacity: float = Field(default=0.02, gt=0, lt=1,
                                         description="Share of orders the review team can look at; the "
                                                     "model's review threshold fills it.")
    fraud_label_maturity_days: int = Field(default=30, ge=0,
                                           description="Orders younger than this are not training rows: "
                                                       "most chargebacks have not arrived yet.")
    fraud_min_roc_auc: float = Field(default=0.7, ge=0, le=1, description="Promotion floor.")
    fraud_min_pr_auc_lift: float = Field(default=2.0, ge=0,
                                         description="Promotion floor: PR-AUC at least this multiple of the "
                                                     "fraud rate of the test orders.")
    fraud_promotion_tolerance: float = Field(default=0.01, ge=0, le=1,
                                             description="How much lower than the current model's PR-AUC (on "
                                                         "the same test orders) a candidate may score.")

    # -- reconciliation --
    carrier_invoice_dir: Path | None = Field(
        default=None, description="Inbox of carrier invoice CSV files (landed ones move to its landed/ "
        "subfolder); default <data_dir>/carrier_invoices/inbox.")
    finance_report_start_date: date = Field(
        default=date(2025, 1, 1), description="First as-of day (a daily partition) of the reconciliation "
        "marts and the finance report.")
    reconciliation_promise_days: int = Field(
        default=5, ge=0, description="Days after an order is placed by which it should have shipped; past "
        "it, a paid order nothing shipped for is an `unshipped_paid_order` variance.")

    # -- order notes ----------------------------------------------------------------------------
    # The Anthropic SDK reads ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL itself; no key is kept here.
    notes_engine: Literal["local", "anthropic", "auto"] = Field(
        default="auto", description="Note parser; auto = anthropic when ANTHROPIC_API_KEY is set, else local.")
    anthropic_model: str = Field(default="claude-sonnet-4-5", description="Claude model that parses notes.")
    anthropic_timeout_s: float = Field(default=20.0, gt=0, description="Timeout of one Messages API request.")
    anthropic_max_retries: int = Field(default=3, ge=0, description="SDK retries on 429/5xx/overloaded.")
    notes_cache_dir: Path | None = Field(
        default=None, description="Cache of LLM answers (masked text only); default <data_dir>/notes_cache.")

    @cached_property
    def resolved_warehouse_url(self) -> str:
        """The warehouse URL, defaulting to a DuckDB file in the data directory."""
        if self.warehouse_url:
            return self.warehouse_url
        return f"duckdb:///{(self.data_dir / 'warehouse.duckdb').resolve()}"

    @cached_property
    def resolved_shopify_url(self) -> str:
        """The Admin API base URL (no trailing slash)."""
        if self.shopify_url:
            return self.shopify_url.rstrip("/")
        return SANDBOX_SHOPIFY_URL if self.shop_domain == SANDBOX_SHOP_DOMAIN else f"https://{self.shop_domain}"

    @property
    def resolved_shipstation_url(self) -> str | None:
        """The 3PL's API: ``OMS_SHIPSTATION_URL``; else, when the store is the loopback sandbox, that same
        server (it serves the emulated ShipStation next to the Admin API); else none (no handoff)."""
        if self.shipstation_url:
            return self.shipstation_url.rstrip("/")
        return self.resolved_shopify_url if self.store_is_loopback_sandbox else None

    def rollout_modes(self) -> dict[Workflow, RolloutMode]:
        """The rollout mode of each workflow."""
        return rollout_modes(self)

    @property
    def store_is_loopback_sandbox(self) -> bool:
        """Whether the store is the sandbox on this machine (then sandbox defaults are what is meant)."""
        return is_loopback(self.resolved_shopify_url)

    def sandbox_fallbacks(self) -> list[str]:
        """Settings that would fall back to sandbox values although the store is a real one, each as
        ``OMS_<NAME>: what is wrong``; empty while the store is the loopback sandbox."""
        if self.store_is_loopback_sandbox:
            return []
        found = []
        if self.network_file is None:
            found.append("OMS_NETWORK_FILE: not set; a real store needs its own fulfillment network "
                         "(locations, stock, carrier services)")
        if self.shopify_token.get_secret_value() == SANDBOX_SHOPIFY_TOKEN:
            found.append("OMS_SHOPIFY_TOKEN: not set (it is the sandbox's token); set the store's Admin API token")
        if self.shipstation_url:
            for name, value, sandbox in (("OMS_SHIPSTATION_API_KEY", self.shipstation_api_key, SANDBOX_SHIPSTATION_KEY),
                                         ("OMS_SHIPSTATION_API_SECRET", self.shipstation_api_secret,
                                          SANDBOX_SHIPSTATION_SECRET)):
                if value.get_secret_value() == sandbox:
                    found.append(f"{name}: not set (it is the sandbox's); set the 3PL's ShipStation credentials")
            if is_loopback(self.shipstation_url):
                found.append("OMS_SHIPSTATION_URL: points at a loopback sandbox; set the 3PL's ShipStation URL")
        if is_loopback(self.carrier_rates_url):
            found.append("OMS_CARRIER_RATES_URL: points at a loopback sandbox; set the carrier rates API's URL "
                         "or leave it unset (rate cards only)")
        for name in ("slack_webhook_url", "zendesk_url"):
            value = getattr(self, name)
            url = value.get_secret_value() if isinstance(value, SecretStr) else value
            if is_loopback(url):
                found.append(f"OMS_{name.upper()}: points at a loopback sandbox; set the real one or leave it unset")
        return found

    def require_no_sandbox_fallback(self) -> None:
        """Refuse to run against a real store with sandbox values: raise :class:`SandboxFallback` naming
        the first setting (and how many more there are). Nothing is sent before this passes."""
        found = self.sandbox_fallbacks()
        if found:
            more = f" (and {len(found) - 1} more: `oms doctor` lists them)" if len(found) > 1 else ""
            raise SandboxFallback(f"refusing to start against {self.resolved_shopify_url}: {found[0]}{more}")

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


def setting_default(field: str) -> Any:
    """The default of one setting (a secret's as plain text): what a resource built by hand, in a test,
    gets, so each default is written once, here."""
    default = OmsSettings.model_fields[field].default
    return default.get_secret_value() if isinstance(default, SecretStr) else default
