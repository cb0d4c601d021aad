"""Shopify's calculated query cost for GraphQL Admin API documents (pure; graphql-core only).

Shopify's documented rules (https://shopify.dev/docs/api/usage/limits, "Cost calculation"):

- a field returning a scalar or an enum costs 0;
- a field returning an object costs 1, plus what is selected inside it (a list of objects that is
  not a connection is priced like one object);
- a connection costs 2, plus its page size (``first`` or ``last``) times the cost of one node as
  selected (``edges { node }`` and ``nodes``); ``pageInfo``, ``cursor`` and ``edges`` themselves are
  part of the 2;
- a field returning an interface or a union costs the maximum over its possible types;
- a mutation costs 10.

The *requested* cost is computed before execution from the page sizes asked for; the *actual*
cost walks the returned data, so null objects cost nothing and short pages cost what they hold.
Shopify refuses a query whose requested cost exceeds :data:`MAX_QUERY_COST`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    type_from_ast,
)
from graphql.execution.values import get_argument_values, get_directive_values, get_variable_values
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective

MAX_QUERY_COST = 1000
OBJECT_COST = 1
CONNECTION_COST = 2
MUTATION_COST = 10


class QueryCostError(ValueError):
    """The document cannot be priced: no such operation, or variables that do not coerce."""


def requested_query_cost(
    schema: GraphQLSchema,
    document_ast: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """The cost Shopify charges up front for one operation of ``document_ast``, from its page sizes."""
    return _Pricer(schema, document_ast, variables, operation_name).operation_cost(None)


def actual_query_cost(
    schema: GraphQLSchema,
    document_ast: DocumentNode,
    variables: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    operation_name: str | None = None,
) -> int:
    """The cost of the operation as answered: ``data`` is the response's ``data`` object.

    Null objects cost nothing and connections cost 2 plus what their returned nodes cost.
    """
    if data is None:
        return 0
    return _Pricer(schema, document_ast, variables, operation_name).operation_cost(data)


def select_operation(document_ast: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation ``operation_name`` names, or the only one; raises ``QueryCostError`` otherwise."""
    operations = [d for d in document_ast.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) != 1:
            raise QueryCostError("Must provide operation name if query contains multiple operations.")
        return operations[0]
    for operation in operations:
        if operation.name and operation.name.value == operation_name:
            return operation
    raise QueryCostError(f"Unknown operation named '{operation_name}'.")


def coerce_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The operation's variables coerced to their declared types; raises ``QueryCostError`` if they do not fit."""
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}))
    if isinstance(coerced, list):
        raise QueryCostError("; ".join(e.message for e in coerced))
    return coerced


def is_connection(field: GraphQLField) -> bool:
    """Whether ``field`` is a Relay connection sized by ``first``/``last`` (Shopify's naming)."""
    named = get_named_type(field.type)
    return (isinstance(named, GraphQLObjectType) and named.name.endswith("Connection")
            and "first" in field.args and "last" in field.args)


class FieldCollector:
    """Groups an operation's field nodes by response key, as execution would for a concrete type.

    Follows fragment spreads and inline fragments whose type condition applies, and honours
    ``@skip``/``@include``.
    """

    def __init__(self, schema: GraphQLSchema, document_ast: DocumentNode, variables: Mapping[str, Any]):
        self.schema = schema
        self.variables = variables
        self.fragments = {d.name.value: d for d in document_ast.definitions
                          if isinstance(d, FragmentDefinitionNode)}
        # The same selections are collected once per returned object: remember them (AST nodes live
        # as long as this collector's document).
        self._memo: dict[tuple[str, tuple[int, ...]], dict[str, list[FieldNode]]] = {}

    def collect(self, object_type: GraphQLObjectType,
                selection_sets: list[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        """Field nodes by response key (alias or name), for ``object_type``."""
        memo_key = (object_type.name, tuple(id(s) for s in selection_sets))
        if memo_key not in self._memo:
            self._memo[memo_key] = self._collect(object_type, selection_sets)
        return self._memo[memo_key]

    def _collect(self, object_type: GraphQLObjectType,
                 selection_sets: list[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def walk(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self.included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self.applies(selection.type_condition, object_type):
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name in visited or fragment is None:
                        continue
                    visited.add(name)
                    if self.applies(fragment.type_condition, object_type):
                        walk(fragment.selection_set)

        for selection_set in selection_sets:
            walk(selection_set)
        return fields

    def included(self, node: Any) -> bool:
        """Whether ``@skip``/``@include`` keep ``node``."""
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)

    def applies(self, condition: Any, object_type: GraphQLObjectType) -> bool:
        """Whether a fragment with type ``condition`` applies to ``object_type``."""
        if condition is None:
            return True
        conditional = type_from_ast(self.schema, condition)
        if conditional is object_type:
            return True
        return is_abstract_type(conditional) and self.schema.is_sub_type(conditional, object_type)


class _Pricer:
    """Walks one operation's selections, with or without the returned data beside them."""

    def __init__(self, schema: GraphQLSchema, document_ast: DocumentNode,
                 variables: Mapping[str, Any] | None, operation_name: str | None):
        self.schema = schema
        self.operation = select_operation(document_ast, operation_name)
        self.variables = coerce_variables(schema, self.operation, variables)
        self.collect = FieldCollector(schema, document_ast, self.variables).collect

    def operation_cost(self, data: Mapping[str, Any] | None) -> int:
        root = self.schema.get_root_type(self.operation.operation)
        if root is None:
            raise QueryCostError(f"Schema is not configured for {self.operation.operation.value}s.")
        fields = self.collect(root, [self.operation.selection_set])
        if self.operation.operation == OperationType.MUTATION:
            # Each mutation field is priced flat; what its payload selects is part of the 10.
            return sum(MUTATION_COST for key in fields if not key.startswith("__") and
                       (data is None or data.get(key) is not None))
        return self.fields_cost(root, fields, data)

    # -- pricing ------------------------------------------------------------------------------

    def fields_cost(self, parent: GraphQLObjectType, fields: dict[str, list[FieldNode]],
                    data: Mapping[str, Any] | None) -> int:
        total = 0
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name.startswith("__"):
                continue  # __typename and introspection are free
            field = parent.fields.get(name)
            if field is None:
                raise QueryCostError(f"Field '{name}' doesn't exist on type '{parent.name}'")
            if data is None:
                total += self.field_cost(field, nodes, None, requested=True)
            elif key in data:
                total += self.field_cost(field, nodes, data[key], requested=False)
        return total

    def field_cost(self, field: GraphQLField, nodes: list[FieldNode], value: Any, *, requested: bool) -> int:
        named = get_named_type(field.type)
        if is_leaf_type(named):
            return 0
        if not requested and value is None:
            return 0  # the query ended early here: nothing below was resolved
        selections = [n.selection_set for n in nodes if n.selection_set]
        if is_connection(field):
            return CONNECTION_COST + self.connection_nodes_cost(field, nodes, selections, value, requested=requested)
        if not requested and isinstance(value, list):
            inner = max((self.object_cost(named, selections, item) for item in value if item is not None), default=0)
            return inner if value else 0
        return self.object_cost(named, selections, None if requested else value)

    def object_cost(self, named: Any, selections: list[SelectionSetNode], value: Mapping[str, Any] | None) -> int:
        """1 for the object plus its selected children; an abstract type costs its dearest possible type."""
        if is_abstract_type(named):
            candidates = self.schema.get_possible_types(named)
            if value is not None and isinstance(value.get("__typename"), str):
                candidates = [t for t in candidates if t.name == value["__typename"]] or candidates
            return max((OBJECT_COST + self.fields_cost(t, self.collect(t, selections), value) for t in candidates),
                       default=OBJECT_COST)
        return OBJECT_COST + self.fields_cost(named, self.collect(named, selections), value)

    def connection_nodes_cost(self, field: GraphQLField, nodes: list[FieldNode],
                              selections: list[SelectionSetNode], value: Any, *, requested: bool) -> int:
        connection = get_named_type(field.type)
        inner = self.collect(connection, selections)
        if requested:
            args = get_argument_values(field, nodes[0], self.variables)
            size = max(args.get("first") or 0, args.get("last") or 0)
        total = 0
        for key, inner_nodes in inner.items():
            name = inner_nodes[0].name.value
            sub_selections = [n.selection_set for n in inner_nodes if n.selection_set]
            if name == "nodes":
                node_type = get_named_type(connection.fields["nodes"].type)
                if requested:
                    total += size * self.object_cost(node_type, sub_selections, None)
                else:
                    total += sum(self.object_cost(node_type, sub_selections, item)
                                 for item in (value or {}).get(key) or () if item is not None)
            elif name == "edges":
                edge_type = get_named_type(connection.fields["edges"].type)
                edge_fields = self.collect(edge_type, sub_selections)
                for node_key, node_nodes in edge_fields.items():
                    if node_nodes[0].name.value != "node":
                        continue  # cursor: free
                    node_type = get_named_type(edge_type.fields["node"].type)
                    node_selections = [n.selection_set for n in node_nodes if n.selection_set]
                    if requested:
                        total += size * self.object_cost(node_type, node_selections, None)
                    else:
                        total += sum(self.object_cost(node_type, node_selections, edge.get(node_key))
                                     for edge in (value or {}).get(key) or ()
                                     if edge is not None and edge.get(node_key) is not None)
        return total


def max_cost_exceeded_error(cost: int) -> dict[str, Any]:
    """Shopify's answer to a query whose requested cost is over the single-query limit."""
    return {
        "message": (
            f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\n"
            "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
            "cost of a query is calculated.\n\n"
            "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
            "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
        ),
        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": MAX_QUERY_COST},
    }


@cache
def admin_subset_schema() -> GraphQLSchema:
    """The part of Shopify's Admin API schema (2025-01) that oms-pipeline uses, copied faithfully.

    The connector prices its queries with it before sending them; the sandbox serves it.
    """
    text = resources.files("oms_pipeline.domain.shopify").joinpath("admin_subset.graphql").read_text()
    return build_schema(text)
