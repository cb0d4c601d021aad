"""Every mutation document of the Shopify writeback connector is shipped, validates against Shopify's own
schema and against the sandbox's subset, and costs what Shopify charges."""

from __future__ import annotations

from pathlib import Path

import graphql
import pytest

from oms_pipeline.connectors import shopify as shopify_connector
from oms_pipeline.connectors.shopify import load_document
from oms_pipeline.domain.shopify.query_cost import admin_subset_schema, requested_query_cost
from oms_pipeline_tests.support.shopify_schema import needs_real_schema, real_schema

WRITEBACK_DOCUMENTS = sorted(f"writeback/{p.name}" for p in
                             (Path(shopify_connector.__file__).parent / "graphql" / "writeback").glob("*.graphql"))
_ORDER = "gid://shopify/Order/1"
_FULFILLMENT_ORDER = "gid://shopify/FulfillmentOrder/11"
# Variables as the connector sends them (the cost depends on them).
VARIABLES = {
    "writeback/add_order_tags.graphql": {"id": _ORDER, "tags": ["oms:flagged"]},
    "writeback/set_order_metafields.graphql": {"metafields": [
        {"ownerId": _ORDER, "namespace": "oms", "key": "triage", "type": "json", "value": "{}"}]},
    "writeback/update_order_note.graphql": {"input": {"id": _ORDER, "note": "n"}},
    "writeback/hold_fulfillment_order.graphql": {"id": _FULFILLMENT_ORDER, "fulfillmentHold": {
        "reason": "OTHER", "handle": "h", "reasonNotes": "r"}},
    "writeback/release_fulfillment_holds.graphql": {"id": _FULFILLMENT_ORDER, "holdIds": []},
    "writeback/order_fulfillment_orders.graphql": {"id": _ORDER},
    "writeback/order_writeback_state.graphql": {"id": _ORDER, "namespace": "oms"},
    "writeback/order_addresses.graphql": {"id": _ORDER},
    "writeback/order_note.graphql": {"id": _ORDER},
}


def test_documents_are_shipped():
    assert WRITEBACK_DOCUMENTS == sorted(VARIABLES)


@needs_real_schema
@pytest.mark.parametrize("name", WRITEBACK_DOCUMENTS)
def test_document_validates_against_shopify_schema(name):
    errors = graphql.validate(real_schema(), graphql.parse(load_document(name)))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("name", WRITEBACK_DOCUMENTS)
def test_document_validates_against_the_subset_and_costs_what_shopify_charges(name):
    document = graphql.parse(load_document(name))
    assert graphql.validate(admin_subset_schema(), document) == []
    cost = requested_query_cost(admin_subset_schema(), document, VARIABLES[name])
    is_mutation = document.definitions[0].operation == graphql.OperationType.MUTATION
    assert cost == 10 if is_mutation else 0 < cost <= 200
