"""Every GraphQL document we send validates against Shopify's own 2025-01 schema and stays under
Shopify's 1,000-point single-query cost limit."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import graphql
import pytest

from oms_pipeline.connectors import shopify as shopify_connector
from oms_pipeline.connectors.shopify import load_document
from oms_pipeline_tests.support.shopify_schema import SCHEMA_PATH

DOCUMENTS = sorted(p.name for p in (Path(shopify_connector.__file__).parent / "graphql").glob("*.graphql"))
# Variables as the connector sends them: page sizes are what the cost depends on.
VARIABLES = {
    "orders_page.graphql": {"first": shopify_connector.ORDERS_PER_PAGE,
                            "lineItems": shopify_connector.LINE_ITEMS_PER_PAGE},
    "order_line_items.graphql": {"id": "gid://shopify/Order/1", "first": shopify_connector.MORE_LINE_ITEMS_PER_PAGE},
    "latest_order_change.graphql": {},
    "app_access_scopes.graphql": {},
    "order_transactions.graphql": {
        "ids": [f"gid://shopify/Order/{n}" for n in range(1, shopify_connector.ORDERS_PER_TRANSACTIONS_PAGE + 1)],
        "first": shopify_connector.TRANSACTIONS_PER_ORDER},
}


@cache
def shopify_schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(SCHEMA_PATH.read_text(), assume_valid=True)


pytestmark = pytest.mark.skipif(not SCHEMA_PATH.exists(),
                                reason=f"Shopify's schema dump not found at {SCHEMA_PATH} (set OMS_SHOPIFY_SCHEMA)")


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_validates_against_shopify_schema(name):
    errors = graphql.validate(shopify_schema(), graphql.parse(load_document(name)))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_cost_is_within_shopify_limit(name):
    from oms_pipeline.domain.shopify.query_cost import requested_query_cost

    cost = requested_query_cost(shopify_schema(), graphql.parse(load_document(name)), VARIABLES[name])
    assert 0 < cost <= 1000, cost


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_connection_asks_for_a_page_size(name):
    # Shopify refuses connections without first/last; check every connection field we select.
    type_info = graphql.TypeInfo(shopify_schema())
    unbounded: list[str] = []

    class Visitor(graphql.Visitor):
        def enter_field(self, node, *_):
            field = type_info.get_field_def()
            if field and graphql.get_named_type(field.type).name.endswith("Connection"):
                if not {a.name.value for a in node.arguments or ()} & {"first", "last"}:
                    unbounded.append(node.name.value)

    graphql.visit(graphql.parse(load_document(name)), graphql.TypeInfoVisitor(type_info, Visitor()))
    assert unbounded == []
