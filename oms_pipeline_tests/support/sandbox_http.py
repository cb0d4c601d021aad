"""Shared helpers for the sandbox tests: Shopify's real schema (when present) and HTTP clients."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import graphql
import httpx
import pytest

from oms_pipeline.sandbox.server import API_VERSION, SandboxServer

SCHEMA_PATH = Path(os.environ.get(
    "OMS_SHOPIFY_SCHEMA",
    Path(__file__).resolve().parents[3] / "shared" / "vendor" / "shopify-admin-schema" / "admin.graphql",
))
GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
ORDERS_PATH = f"/admin/api/{API_VERSION}/orders.json"

needs_real_schema = pytest.mark.skipif(
    not SCHEMA_PATH.exists(), reason=f"Shopify's schema dump not found at {SCHEMA_PATH} (set OMS_SHOPIFY_SCHEMA)")


@cache
def real_schema() -> graphql.GraphQLSchema:
    """Shopify's own Admin API schema, built once per session."""
    return graphql.build_schema(SCHEMA_PATH.read_text(), assume_valid=True)


def client(sandbox: SandboxServer, token: str | None = None) -> httpx.Client:
    """An httpx client for the sandbox, authenticated with its token unless told otherwise."""
    return httpx.Client(base_url=sandbox.url, timeout=10.0,
                        headers={"X-Shopify-Access-Token": token or sandbox.token})


def gql(http: httpx.Client, query: str, variables: dict | None = None) -> dict:
    """POST one GraphQL document; the decoded answer (asserting HTTP 200)."""
    response = http.post(GRAPHQL_PATH, json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()
