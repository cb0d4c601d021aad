"""Every type, field, argument and enum value the sandbox serves exists in Shopify's real schema
with the same signature, and the connector's documents validate against the subset."""

from __future__ import annotations

import graphql
import pytest
from graphql import GraphQLEnumType, GraphQLInterfaceType, GraphQLObjectType, GraphQLScalarType

from oms_pipeline.connectors import shopify as connector
from oms_pipeline.sandbox.graphql_api import subset_schema
from oms_pipeline_tests.support.shopify_schema import needs_real_schema, real_schema


def _own_types(schema: graphql.GraphQLSchema):
    return {name: t for name, t in schema.type_map.items() if not name.startswith("__")
            and name not in ("String", "Int", "Float", "Boolean", "ID")}


@needs_real_schema
def test_subset_is_faithful_to_shopify_schema():
    real = real_schema()
    problems = []
    for name, ours in _own_types(subset_schema()).items():
        theirs = real.type_map.get(name)
        if theirs is None or type(theirs) is not type(ours):
            problems.append(f"{name}: {type(ours).__name__} not in the real schema as such")
            continue
        if isinstance(ours, GraphQLEnumType):
            problems += [f"{name}.{v}: no such enum value" for v in ours.values if v not in theirs.values]
        if isinstance(ours, GraphQLObjectType):
            real_interfaces = {i.name for i in theirs.interfaces}
            problems += [f"{name}: does not implement {i.name}" for i in ours.interfaces
                         if i.name not in real_interfaces]
        if isinstance(ours, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in ours.fields.items():
                real_field = theirs.fields.get(field_name)
                if real_field is None:
                    problems.append(f"{name}.{field_name}: no such field")
                    continue
                if str(field.type) != str(real_field.type):
                    problems.append(f"{name}.{field_name}: {field.type} but Shopify says {real_field.type}")
                for arg_name, arg in field.args.items():
                    real_arg = real_field.args.get(arg_name)
                    if real_arg is None:
                        problems.append(f"{name}.{field_name}({arg_name}): no such argument")
                    elif str(arg.type) != str(real_arg.type) or arg.default_value != real_arg.default_value:
                        problems.append(f"{name}.{field_name}({arg_name}): {arg.type} = {arg.default_value!r} "
                                        f"but Shopify says {real_arg.type} = {real_arg.default_value!r}")
        if isinstance(ours, GraphQLScalarType) and not isinstance(theirs, GraphQLScalarType):
            problems.append(f"{name}: not a scalar in the real schema")
    assert problems == []


@needs_real_schema
@pytest.mark.parametrize("enum", ["CurrencyCode", "CountryCode", "OrderDisplayFinancialStatus",
                                  "OrderDisplayFulfillmentStatus", "OrderCancelReason"])
def test_value_enums_are_complete(enum):
    assert set(subset_schema().type_map[enum].values) == set(real_schema().type_map[enum].values)


@pytest.mark.parametrize("name", ["orders_page.graphql", "order_line_items.graphql", "latest_order_change.graphql"])
def test_connector_documents_validate_against_the_subset(name):
    assert graphql.validate(subset_schema(), graphql.parse(connector.load_document(name))) == []
