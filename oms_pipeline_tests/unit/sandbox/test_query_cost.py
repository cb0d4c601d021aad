"""Shopify's documented query-cost rules, on examples and on the connector's documents against
Shopify's real schema."""

from __future__ import annotations

import graphql
import pytest

from oms_pipeline.connectors import shopify as connector
from oms_pipeline.domain.shopify.query_cost import (
    MAX_QUERY_COST,
    QueryCostError,
    actual_query_cost,
    requested_query_cost,
)
from oms_pipeline.sandbox.graphql_api import subset_schema
from oms_pipeline_tests.support.shopify_schema import needs_real_schema, real_schema

SDL = """
type Query { shop: Shop! node(id: ID!): Node products(first: Int, last: Int): ProductConnection! }
type Mutation { tagsAdd(id: ID!): Payload }
type Payload { node: Node }
interface Node { id: ID! }
type Shop { name: String! plan: Plan }
type Plan { name: String }
type Product implements Node { id: ID! title: String! variants(first: Int, last: Int): VariantConnection! }
type Variant implements Node { id: ID! price: String! image: Image }
type Image { url: String }
type ProductConnection { edges: [ProductEdge!]! nodes: [Product!]! pageInfo: PageInfo! }
type ProductEdge { cursor: String! node: Product! }
type VariantConnection { edges: [VariantEdge!]! nodes: [Variant!]! pageInfo: PageInfo! }
type VariantEdge { cursor: String! node: Variant! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
"""
SCHEMA = graphql.build_schema(SDL)


def cost(query: str, variables: dict | None = None) -> int:
    return requested_query_cost(SCHEMA, graphql.parse(query), variables or {})


@pytest.mark.parametrize(("query", "expected"), [
    ("{ shop { name } }", 1),  # an object: 1; scalars: 0
    ("{ shop { name plan { name } } }", 2),
    ("{ products(first: 10) { pageInfo { hasNextPage } edges { cursor node { title } } } }", 2 + 10),
    ("{ products(first: 10) { nodes { title variants(first: 5) { nodes { price } } } } }", 2 + 10 * (1 + 2 + 5)),
    ("{ products(last: 3) { edges { node { id } } nodes { id } } }", 2 + 3 * 2),
    ("{ node(id: \"x\") { id ... on Variant { image { url } } } }", 2),  # an interface: its dearest type
    ("{ a: shop { name } b: shop { name } }", 2),  # aliases are priced separately
    ("{ shop { name @skip(if: true) plan @include(if: false) { name } } }", 1),
    ("mutation { tagsAdd(id: \"1\") { node { id } } }", 10),
])
def test_documented_rules(query, expected):
    assert cost(query) == expected


def test_page_sizes_and_fragments_come_from_variables():
    query = """query Q($n: Int!) { products(first: $n) { ...P } }
               fragment P on ProductConnection { nodes { title } }"""
    assert cost(query, {"n": 50}) == 52
    with pytest.raises(QueryCostError):
        cost(query, {})


def test_actual_cost_counts_what_came_back():
    document = graphql.parse(
        "{ products(first: 10) { nodes { variants(first: 5) { nodes { price } } } } shop { plan { name } } }")
    data = {"products": {"nodes": [{"variants": {"nodes": [{"price": "1"}]}}, {"variants": {"nodes": []}}]},
            "shop": {"plan": None}}
    assert requested_query_cost(SCHEMA, document) == 2 + 10 * (1 + 2 + 5) + 2
    assert actual_query_cost(SCHEMA, document, {}, data) == 2 + (1 + 2 + 1) + (1 + 2) + 1


@needs_real_schema
@pytest.mark.parametrize("name", ["orders_page.graphql", "order_line_items.graphql", "latest_order_change.graphql"])
def test_subset_prices_like_the_real_schema(name):
    document = graphql.parse(connector.load_document(name))
    variables = {"first": 8, "lineItems": 10, "id": "gid://shopify/Order/1"}
    used = {v.variable.name.value for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)
            for v in d.variable_definitions}
    variables = {k: v for k, v in variables.items() if k in used}
    assert requested_query_cost(subset_schema(), document, variables) == \
        requested_query_cost(real_schema(), document, variables)


@needs_real_schema
def test_orders_page_fits_the_single_query_limit():
    document = graphql.parse(connector.load_document("orders_page.graphql"))
    variables = {"first": connector.ORDERS_PER_PAGE, "lineItems": connector.LINE_ITEMS_PER_PAGE}
    requested = requested_query_cost(real_schema(), document, variables)
    print(f"OrdersPage requested cost with {variables}: {requested}")
    per_order = (requested_query_cost(real_schema(), document, {**variables, "first": 1}) - 2)
    assert requested <= MAX_QUERY_COST, (
        f"OrdersPage with {variables} costs {requested} > {MAX_QUERY_COST}; each order costs {per_order}, "
        f"so at most {(MAX_QUERY_COST - 2) // per_order} orders fit a page")
