"""The order transactions document validates against the sandbox's subset and Shopify's schema and stays
within the cost limit; order ids are accepted as numbers or gids."""

from __future__ import annotations

import graphql
import pytest

from oms_pipeline.connectors import shopify as connector
from oms_pipeline.connectors.shopify import load_document
from oms_pipeline.domain.shopify.query_cost import MAX_QUERY_COST, requested_query_cost
from oms_pipeline.sandbox.graphql_api import subset_schema
from oms_pipeline_tests.support.shopify_schema import needs_real_schema, real_schema

DOCUMENT = "order_transactions.graphql"


def test_document_validates_and_stays_within_cost_limit():
    document = graphql.parse(load_document(DOCUMENT))
    assert graphql.validate(subset_schema(), document) == []
    ids = [f"gid://shopify/Order/{n}" for n in range(connector.ORDERS_PER_TRANSACTIONS_PAGE)]
    variables = {"ids": ids, "first": connector.TRANSACTIONS_PER_ORDER}
    assert 0 < requested_query_cost(subset_schema(), document, variables) <= MAX_QUERY_COST
    # The dearest reading of Shopify's rules: every id and every listed transaction charged.
    one = requested_query_cost(subset_schema(), document, {"ids": ids[:1], "first": 1})  # order 1 + transaction
    per_transaction = one - 1
    worst = connector.ORDERS_PER_TRANSACTIONS_PAGE * (1 + connector.TRANSACTIONS_PER_ORDER * per_transaction)
    assert per_transaction == 4 and worst <= MAX_QUERY_COST


@needs_real_schema
def test_document_and_enums_match_shopify_schema():
    assert graphql.validate(real_schema(), graphql.parse(load_document(DOCUMENT))) == []
    for enum in ("OrderTransactionKind", "OrderTransactionStatus"):
        assert set(subset_schema().type_map[enum].values) == set(real_schema().type_map[enum].values)


@pytest.mark.parametrize("value", ["gid://shopify/Order/12", 12, "12"])
def test_order_ids_are_accepted_as_numbers_or_gids(value):
    assert connector._order_number(value) == 12
