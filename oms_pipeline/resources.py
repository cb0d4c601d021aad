"""Dagster resources, built from the one settings object: the same assets run on the embedded
defaults and in production, only the settings differ."""

from __future__ import annotations

from datetime import timedelta

from dagster import ConfigurableResource

from oms_pipeline.connectors.shopify import ShopifyClient
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
    }
