"""Dagster resources, built from the one settings object: the same assets run on the embedded
defaults and in production, only the settings differ."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from dagster import ConfigurableResource

from oms_pipeline.connectors.notifications import SlackWebhook, ZendeskTickets
from oms_pipeline.connectors.shipstation import ShipStationClient
from oms_pipeline.connectors.shopify import ShopifyClient
from oms_pipeline.connectors.shopify_writeback import ShopifyWriteback
from oms_pipeline.domain.writeback.actions import RolloutMode, Workflow
from oms_pipeline.domain.writeback.policy import CircuitBreaker
from oms_pipeline.gateway.executors import StoreExecutor
from oms_pipeline.gateway.gateway import WritebackGateway
from oms_pipeline.services.decisions import DecisionPolicy, load_decision_policy
from oms_pipeline.services.fraud import FraudPolicy
from oms_pipeline.services.planning import RoutingPolicy
from oms_pipeline.settings import OmsSettings
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
    api_version: str = "2025-01"
    api: str = "graphql"
    timeout_s: float = 20.0
    max_attempts: int = 6
    overlap_s: int = 120

    @property
    def overlap(self) -> timedelta:
        """How far before the high-water mark each poll starts again."""
        return timedelta(seconds=self.overlap_s)

    def client(self) -> ShopifyClient:
        """A connected client; close it (or use ``with``) when done."""
        return ShopifyClient(self.base_url, self.token, self.shop_domain, api_version=self.api_version,
                             timeout_s=self.timeout_s, max_attempts=self.max_attempts)


class DecisionsResource(ConfigurableResource):
    """How orders are decided and what the gateway may write: rules, network, rollout modes, channels."""

    triage_rules_file: str | None = None
    network_file: str | None = None
    hold_recheck_hours: float = 24.0
    rollout_triage_tags: str = "shadow"
    rollout_holds: str = "shadow"
    rollout_routing: str = "shadow"
    rollout_notifications: str = "shadow"
    confidence_threshold: float = 0.8
    breaker_max_share: float = 0.5
    breaker_min_orders: int = 20
    slack_webhook_url: str | None = None
    zendesk_url: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: str | None = None
    routing_time_limit_s: float = 10.0
    carrier_rates_url: str | None = None
    carrier_rates_api_key: str | None = None
    rates_cache_ttl_s: float = 900.0
    rollout_handoff: str = "shadow"
    shipstation_url: str | None = None
    shipstation_api_key: str = ""
    shipstation_api_secret: str = ""
    data_dir: str = ".oms"  # where documents (packing slips) are written
    writeback_max_attempts: int = 8
    writeback_max_unsent_minutes: float = 60.0

    def policy(self) -> DecisionPolicy:
        """The triage rules, fulfillment network and hold recheck delay."""
        return load_decision_policy(Path(self.triage_rules_file) if self.triage_rules_file else None,
                                    Path(self.network_file) if self.network_file else None, self.hold_recheck_hours)

    def routing(self) -> RoutingPolicy:
        """How fulfillment is planned: the optimizer's time limit and the carrier rates API, if any."""
        return RoutingPolicy(time_limit_s=self.routing_time_limit_s, carrier_rates_url=self.carrier_rates_url,
                             carrier_rates_api_key=self.carrier_rates_api_key or "",
                             rates_cache_ttl_s=self.rates_cache_ttl_s)

    @property
    def max_unsent_age(self) -> timedelta:
        """How long an intended write may stay unsent before it is reported."""
        return timedelta(minutes=self.writeback_max_unsent_minutes)

    def modes(self) -> dict[Workflow, RolloutMode]:
        """The rollout mode of each workflow."""
        return {Workflow.TRIAGE_TAGS: RolloutMode(self.rollout_triage_tags),
                Workflow.HOLDS: RolloutMode(self.rollout_holds),
                Workflow.ROUTING: RolloutMode(self.rollout_routing),
                Workflow.NOTIFICATIONS: RolloutMode(self.rollout_notifications),
                Workflow.FULFILLMENT_HANDOFF: RolloutMode(self.rollout_handoff)}

    @contextmanager
    def gateway(self, warehouse: Warehouse, shopify: ShopifyResource) -> Iterator[WritebackGateway]:
        """The writeback gateway over the store, the configured alert channels and the 3PL (closed on exit)."""
        slack = SlackWebhook(self.slack_webhook_url) if self.slack_webhook_url else None
        zendesk = ZendeskTickets(self.zendesk_url, self.zendesk_email or "", self.zendesk_api_token or "") \
            if self.zendesk_url else None
        tpl = ShipStationClient(self.shipstation_url, self.shipstation_api_key, self.shipstation_api_secret) \
            if self.shipstation_url else None
        try:
            with shopify.client() as client:
                executor = StoreExecutor(ShopifyWriteback(client), slack, zendesk, tpl)
                yield WritebackGateway(warehouse.writeback, executor, self.modes(),
                                       confidence_threshold=self.confidence_threshold,
                                       breaker=CircuitBreaker(self.breaker_max_share, self.breaker_min_orders),
                                       max_attempts=self.writeback_max_attempts)
        finally:
            for channel in (slack, zendesk, tpl):
                if channel is not None:
                    channel.close()


class FraudResource(ConfigurableResource):
    """How fraud models are trained, judged and kept: review capacity, label maturity, promotion bar."""

    models_dir: str
    review_capacity: float = 0.02
    label_maturity_days: int = 30
    min_roc_auc: float = 0.7
    min_pr_auc_lift: float = 2.0
    promotion_tolerance: float = 0.01

    def policy(self) -> FraudPolicy:
        """The fraud policy these settings describe."""
        return FraudPolicy(models_dir=Path(self.models_dir), capacity=self.review_capacity,
                           label_maturity_days=self.label_maturity_days, min_roc_auc=self.min_roc_auc,
                           min_pr_auc_lift=self.min_pr_auc_lift, promotion_tolerance=self.promotion_tolerance)


def fraud_resource(settings: OmsSettings) -> FraudResource:
    """The fraud resource from ``OMS_*`` settings (models under ``<data_dir>/models/fraud``)."""
    return FraudResource(models_dir=str((Path(settings.data_dir) / "models" / "fraud").resolve()),
                         review_capacity=settings.fraud_review_capacity,
                         label_maturity_days=settings.fraud_label_maturity_days,
                         min_roc_auc=settings.fraud_min_roc_auc, min_pr_auc_lift=settings.fraud_min_pr_auc_lift,
                         promotion_tolerance=settings.fraud_promotion_tolerance)


def resources_from_settings(settings: OmsSettings) -> dict[str, ConfigurableResource]:
    """The resources of the code location, from ``OMS_*`` settings."""
    return {
        "warehouse": WarehouseResource(url=settings.resolved_warehouse_url),
        "shopify": ShopifyResource(
            base_url=settings.resolved_shopify_url,
            token=settings.shopify_token.get_secret_value(),
            shop_domain=settings.shop_domain,
            api_version=settings.shopify_api_version,
            api=settings.shopify_api,
            timeout_s=settings.shopify_timeout_s,
            max_attempts=settings.shopify_max_attempts,
            overlap_s=settings.ingest_overlap_s,
        ),
        "decisions": decisions_resource(settings),
        "fraud": fraud_resource(settings),
    }


def decisions_resource(settings: OmsSettings) -> DecisionsResource:
    """The decisions resource from ``OMS_*`` settings."""
    secret = settings.zendesk_api_token
    return DecisionsResource(
        triage_rules_file=str(settings.triage_rules_file) if settings.triage_rules_file else None,
        network_file=str(settings.network_file) if settings.network_file else None,
        hold_recheck_hours=settings.hold_recheck_hours,
        rollout_triage_tags=settings.rollout_triage_tags, rollout_holds=settings.rollout_holds,
        rollout_routing=settings.rollout_routing, rollout_notifications=settings.rollout_notifications,
        confidence_threshold=settings.confidence_threshold, breaker_max_share=settings.breaker_max_share,
        breaker_min_orders=settings.breaker_min_orders,
        slack_webhook_url=settings.slack_webhook_url.get_secret_value() if settings.slack_webhook_url else None,
        zendesk_url=settings.zendesk_url, zendesk_email=settings.zendesk_email,
        zendesk_api_token=secret.get_secret_value() if secret else None,
        routing_time_limit_s=settings.routing_time_limit_s, carrier_rates_url=settings.carrier_rates_url,
        carrier_rates_api_key=settings.carrier_rates_api_key.get_secret_value()
        if settings.carrier_rates_api_key else None,
        rates_cache_ttl_s=settings.rates_cache_ttl_s,
        rollout_handoff=settings.rollout_handoff, shipstation_url=shipstation_url(settings),
        shipstation_api_key=settings.shipstation_api_key,
        shipstation_api_secret=settings.shipstation_api_secret.get_secret_value(),
        data_dir=str(settings.data_dir.resolve()),
        writeback_max_attempts=settings.writeback_max_attempts,
        writeback_max_unsent_minutes=settings.writeback_max_unsent_minutes,
    )


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def shipstation_url(settings: OmsSettings) -> str | None:
    """The 3PL's API: ``OMS_SHIPSTATION_URL``; else, when the store is a loopback sandbox, that same
    server (it serves the emulated ShipStation next to the Admin API); else none (no handoff)."""
    if settings.shipstation_url:
        return settings.shipstation_url.rstrip("/")
    host = httpx.URL(settings.resolved_shopify_url).host
    return settings.resolved_shopify_url if host in _LOOPBACK else None
