"""Dagster resources, one per outside system plus the decision policy, built from the one settings
object: the same assets run on the embedded defaults and in production, only the settings differ.

Every secret (the store's token, the Slack webhook URL, the Zendesk token, the ShipStation key and
secret, the carrier rates key, a warehouse URL that may hold a password) reaches Dagster as an
``EnvVar``: the Dagster UI's resource pages and run configs show the variable's name, never its value.
Defaults are the settings' own (``OmsSettings``), not written again here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import ConfigurableResource, EnvVar
from pydantic import SecretStr

from oms_pipeline.connectors.notifications import SlackWebhook, ZendeskTickets
from oms_pipeline.connectors.shipstation import ShipStationClient
from oms_pipeline.connectors.shopify import ShopifyClient
from oms_pipeline.connectors.shopify_writeback import ShopifyWriteback
from oms_pipeline.domain.writeback.actions import ROLLOUT_SETTINGS, RolloutMode, Workflow, rollout_modes
from oms_pipeline.domain.writeback.policy import CircuitBreaker
from oms_pipeline.gateway.executors import StoreExecutor
from oms_pipeline.gateway.gateway import WritebackGateway
from oms_pipeline.services.decisions import DecisionPolicy, load_decision_policy
from oms_pipeline.services.fraud import FraudPolicy
from oms_pipeline.services.planning import RoutingPolicy
from oms_pipeline.settings import OmsSettings, setting_default
from oms_pipeline.storage.warehouse import Warehouse


class WarehouseResource(ConfigurableResource):
    """The warehouse on one SQLAlchemy URL (DuckDB file by default, PostgreSQL in production)."""

    url: str

    def open(self) -> Warehouse:
        """A warehouse with its schema migrated to the current version."""
        warehouse = Warehouse(self.url)
        warehouse.migrate()
        return warehouse


class ShopifyResource(ConfigurableResource):
    """One Shopify store's Admin API (or the sandbox that emulates it)."""

    base_url: str
    token: str
    shop_domain: str
    api_version: str = setting_default("shopify_api_version")
    api: str = setting_default("shopify_api")
    timeout_s: float = setting_default("shopify_timeout_s")
    max_attempts: int = setting_default("shopify_max_attempts")
    overlap_s: int = setting_default("ingest_overlap_s")

    @property
    def overlap(self) -> timedelta:
        """How far before the high-water mark each poll starts again."""
        return timedelta(seconds=self.overlap_s)

    def client(self) -> ShopifyClient:
        """A connected client; close it (or use ``with``) when done."""
        return ShopifyClient(self.base_url, self.token, self.shop_domain, api_version=self.api_version,
                             timeout_s=self.timeout_s, max_attempts=self.max_attempts)


class SlackResource(ConfigurableResource):
    """The Slack incoming webhook exception alerts go to (none: no alerts)."""

    webhook_url: str | None = None

    def client(self) -> SlackWebhook | None:
        """The webhook, or None when none is configured; close it when done."""
        return SlackWebhook(self.webhook_url) if self.webhook_url else None


class ZendeskResource(ConfigurableResource):
    """The Zendesk account exception tickets are opened in (none: no tickets)."""

    url: str | None = None
    email: str | None = None
    api_token: str | None = None

    def client(self) -> ZendeskTickets | None:
        """The ticket API, or None when no account is configured; close it when done."""
        return ZendeskTickets(self.url, self.email or "", self.api_token or "") if self.url else None


class ShipStationResource(ConfigurableResource):
    """The 3PL's ShipStation account: handoffs go to it, its shipments are landed (none: no 3PL)."""

    url: str | None = None
    api_key: str | None = None
    api_secret: str | None = None

    def client(self) -> ShipStationClient | None:
        """The ShipStation client, or None when no 3PL is configured; close it when done."""
        return ShipStationClient(self.url, self.api_key or "", self.api_secret or "") if self.url else None


class CarrierRatesResource(ConfigurableResource):
    """The carrier rates API (EasyPost shape) shipments are rate-shopped with (none: rate cards only)."""

    url: str | None = None
    api_key: str | None = None
    cache_ttl_s: float = setting_default("rates_cache_ttl_s")


class PolicyResource(ConfigurableResource):
    """How orders are decided, planned and written: rules, network, rollout modes, thresholds, limits."""

    triage_rules_file: str | None = None
    network_file: str | None = None
    hold_recheck_hours: float = setting_default("hold_recheck_hours")
    rollout_triage_tags: str = setting_default("rollout_triage_tags")
    rollout_holds: str = setting_default("rollout_holds")
    rollout_routing: str = setting_default("rollout_routing")
    rollout_notifications: str = setting_default("rollout_notifications")
    rollout_handoff: str = setting_default("rollout_handoff")
    confidence_threshold: float = setting_default("confidence_threshold")
    breaker_max_share: float = setting_default("breaker_max_share")
    breaker_min_orders: int = setting_default("breaker_min_orders")
    routing_time_limit_s: float = setting_default("routing_time_limit_s")
    writeback_max_attempts: int = setting_default("writeback_max_attempts")
    writeback_max_unsent_minutes: float = setting_default("writeback_max_unsent_minutes")
    data_dir: str = str(setting_default("data_dir"))  # where documents (packing slips) are written

    def decision_policy(self) -> DecisionPolicy:
        """The triage rules, fulfillment network and hold recheck delay."""
        return load_decision_policy(Path(self.triage_rules_file) if self.triage_rules_file else None,
                                    Path(self.network_file) if self.network_file else None, self.hold_recheck_hours)

    def routing(self, carrier_rates: CarrierRatesResource) -> RoutingPolicy:
        """How fulfillment is planned: the optimizer's time limit and the carrier rates API, if any."""
        return RoutingPolicy(time_limit_s=self.routing_time_limit_s, carrier_rates_url=carrier_rates.url,
                             carrier_rates_api_key=carrier_rates.api_key or "",
                             rates_cache_ttl_s=carrier_rates.cache_ttl_s)

    @property
    def max_unsent_age(self) -> timedelta:
        """How long an intended write may stay unsent before it is reported."""
        return timedelta(minutes=self.writeback_max_unsent_minutes)

    def modes(self) -> dict[Workflow, RolloutMode]:
        """The rollout mode of each workflow."""
        return rollout_modes(self)


@contextmanager
def writeback_gateway(warehouse: Warehouse, shopify: ShopifyResource, slack: SlackResource, zendesk: ZendeskResource,
                      shipstation: ShipStationResource, policy: PolicyResource) -> Iterator[WritebackGateway]:
    """The writeback gateway over the store, the configured alert channels and the 3PL (closed on exit)."""
    channels = [slack.client(), zendesk.client(), shipstation.client()]
    try:
        with shopify.client() as client:
            executor = StoreExecutor(ShopifyWriteback(client), *channels)
            yield WritebackGateway(warehouse.writeback, executor, policy.modes(),
                                   confidence_threshold=policy.confidence_threshold,
                                   breaker=CircuitBreaker(policy.breaker_max_share, policy.breaker_min_orders),
                                   max_attempts=policy.writeback_max_attempts)
    finally:
        for channel in channels:
            if channel is not None:
                channel.close()


@contextmanager
def gateway_from_settings(settings: OmsSettings, warehouse: Warehouse) -> Iterator[WritebackGateway]:
    """:func:`writeback_gateway` outside a Dagster run (operator commands, benches): the resources are
    built from the settings and their ``EnvVar`` secrets resolved as Dagster would."""
    built = resources_from_settings(settings)
    r = {name: built[name].process_config_and_initialize()
         for name in ("shopify", "slack", "zendesk", "shipstation", "policy")}
    with writeback_gateway(warehouse, r["shopify"], r["slack"], r["zendesk"], r["shipstation"], r["policy"]) as gateway:
        yield gateway


class FraudResource(ConfigurableResource):
    """How fraud models are trained, judged and kept: review capacity, label maturity, promotion bar."""

    models_dir: str
    review_capacity: float = setting_default("fraud_review_capacity")
    label_maturity_days: int = setting_default("fraud_label_maturity_days")
    min_roc_auc: float = setting_default("fraud_min_roc_auc")
    min_pr_auc_lift: float = setting_default("fraud_min_pr_auc_lift")
    promotion_tolerance: float = setting_default("fraud_promotion_tolerance")

    def policy(self) -> FraudPolicy:
        """The fraud policy these settings describe."""
        return FraudPolicy(models_dir=Path(self.models_dir), capacity=self.review_capacity,
                           label_maturity_days=self.label_maturity_days, min_roc_auc=self.min_roc_auc,
                           min_pr_auc_lift=self.min_pr_auc_lift, promotion_tolerance=self.promotion_tolerance)


# Settings that are secrets: they reach Dagster as EnvVar("OMS_<NAME>").
SECRETS = ("shopify_token", "slack_webhook_url", "zendesk_api_token", "shipstation_api_key", "shipstation_api_secret",
           "carrier_rates_api_key")


def secret(settings: OmsSettings, field: str) -> Any:
    """``EnvVar("OMS_<FIELD>")`` for a secret setting, or None when it is not set.

    Settings given in code (the demo, the benches, tests) are put in this process's environment under
    that name first, so Dagster resolves the same value wherever the resource is built, and the UI
    shows only the name.
    """
    value = getattr(settings, field)
    if value is None:
        return None
    name = f"OMS_{field.upper()}"
    os.environ[name] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return EnvVar(name)


def _warehouse_url(settings: OmsSettings) -> Any:
    """A warehouse URL with a password in it is a secret (EnvVar); the embedded DuckDB path is not."""
    url = settings.resolved_warehouse_url
    if sa.engine.make_url(url).password:
        os.environ["OMS_WAREHOUSE_URL"] = url
        return EnvVar("OMS_WAREHOUSE_URL")
    return url


def resources_from_settings(settings: OmsSettings) -> dict[str, ConfigurableResource]:
    """The resources of the code location, from ``OMS_*`` settings."""
    return {
        "warehouse": WarehouseResource(url=_warehouse_url(settings)),
        "shopify": shopify_resource(settings),
        "slack": SlackResource(webhook_url=secret(settings, "slack_webhook_url")),
        "zendesk": ZendeskResource(url=settings.zendesk_url, email=settings.zendesk_email,
                                   api_token=secret(settings, "zendesk_api_token")),
        "shipstation": shipstation_resource(settings),
        "carrier_rates": CarrierRatesResource(url=settings.carrier_rates_url,
                                              api_key=secret(settings, "carrier_rates_api_key"),
                                              cache_ttl_s=settings.rates_cache_ttl_s),
        "policy": policy_resource(settings),
        "fraud": fraud_resource(settings),
    }


def shopify_resource(settings: OmsSettings) -> ShopifyResource:
    """The store's resource from ``OMS_*`` settings."""
    return ShopifyResource(base_url=settings.resolved_shopify_url, token=secret(settings, "shopify_token"),
                           shop_domain=settings.shop_domain, api_version=settings.shopify_api_version,
                           api=settings.shopify_api, timeout_s=settings.shopify_timeout_s,
                           max_attempts=settings.shopify_max_attempts, overlap_s=settings.ingest_overlap_s)


def shipstation_resource(settings: OmsSettings) -> ShipStationResource:
    """The 3PL's resource from ``OMS_*`` settings (see ``OmsSettings.resolved_shipstation_url``)."""
    url = settings.resolved_shipstation_url
    return ShipStationResource(url=url, api_key=secret(settings, "shipstation_api_key") if url else None,
                               api_secret=secret(settings, "shipstation_api_secret") if url else None)


def policy_resource(settings: OmsSettings) -> PolicyResource:
    """The decision policy's resource from ``OMS_*`` settings."""
    return PolicyResource(
        triage_rules_file=str(settings.triage_rules_file) if settings.triage_rules_file else None,
        network_file=str(settings.network_file) if settings.network_file else None,
        hold_recheck_hours=settings.hold_recheck_hours,
        **{field: getattr(settings, field) for field in ROLLOUT_SETTINGS.values()},
        confidence_threshold=settings.confidence_threshold,
        breaker_max_share=settings.breaker_max_share, breaker_min_orders=settings.breaker_min_orders,
        routing_time_limit_s=settings.routing_time_limit_s, writeback_max_attempts=settings.writeback_max_attempts,
        writeback_max_unsent_minutes=settings.writeback_max_unsent_minutes,
        data_dir=str(settings.data_dir.resolve()))


def fraud_resource(settings: OmsSettings) -> FraudResource:
    """The fraud resource from ``OMS_*`` settings (models under ``<data_dir>/models/fraud``)."""
    return FraudResource(models_dir=str((Path(settings.data_dir) / "models" / "fraud").resolve()),
                         review_capacity=settings.fraud_review_capacity,
                         label_maturity_days=settings.fraud_label_maturity_days,
                         min_roc_auc=settings.fraud_min_roc_auc, min_pr_auc_lift=settings.fraud_min_pr_auc_lift,
                         promotion_tolerance=settings.fraud_promotion_tolerance)

