"""The sandbox's input objects and required arguments match Shopify's real schema."""

from __future__ import annotations

import graphql
from graphql import GraphQLInputObjectType, GraphQLNonNull

from oms_pipeline.sandbox.graphql_api import subset_schema
from oms_pipeline_tests.support.shopify_schema import needs_real_schema, real_schema


@needs_real_schema
def test_input_objects_and_required_arguments_match_shopify():
    """Input fields we serve are Shopify's, and no input field or argument Shopify requires is left out."""
    real, ours = real_schema(), subset_schema()
    problems = []
    for name, ours_type in ours.type_map.items():
        theirs = real.type_map.get(name)
        if isinstance(ours_type, GraphQLInputObjectType):
            for field_name, real_field in theirs.fields.items():
                ours_field = ours_type.fields.get(field_name)
                required = isinstance(real_field.type, GraphQLNonNull) and real_field.default_value is graphql.Undefined
                if ours_field is None:
                    if required:
                        problems.append(f"{name}.{field_name}: required by Shopify but missing")
                    continue
                if str(ours_field.type) != str(real_field.type) or ours_field.default_value != real_field.default_value:
                    problems.append(f"{name}.{field_name}: {ours_field.type} but Shopify says {real_field.type}")
            problems += [f"{name}.{f}: no such input field" for f in ours_type.fields if f not in theirs.fields]
        elif hasattr(ours_type, "fields") and hasattr(theirs, "fields") and not name.startswith("__"):
            # Arguments Shopify requires cannot be left out of a field we serve.
            for field_name, field in ours_type.fields.items():
                real_field = theirs.fields.get(field_name)
                for arg_name, arg in (real_field.args.items() if real_field else ()):
                    if isinstance(arg.type, GraphQLNonNull) and arg.default_value is graphql.Undefined \
                            and arg_name not in field.args:
                        problems.append(f"{name}.{field_name}({arg_name}): required by Shopify but missing")
    assert ours.mutation_type.name == real.mutation_type.name == "Mutation"
    assert problems == []
