"""Helpers for tests against the sandbox's Shopify API over HTTP: its paths, an authenticated client, one
GraphQL call."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from oms_pipeline.sandbox.server import API_VERSION

if TYPE_CHECKING:
    from oms_pipeline.sandbox.server import SandboxServer

GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
ORDERS_PATH = f"/admin/api/{API_VERSION}/orders.json"


def client(sandbox: SandboxServer, token: str | None = None) -> httpx.Client:
    """An httpx client for the sandbox, authenticated with its token unless told otherwise."""
    return httpx.Client(base_url=sandbox.url, timeout=10.0,
                        headers={"X-Shopify-Access-Token": token or sandbox.token})


def gql(http: httpx.Client, query: str, variables: dict | None = None) -> dict:
    """POST one GraphQL document; the decoded answer (asserting HTTP 200)."""
    response = http.post(GRAPHQL_PATH, json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()
