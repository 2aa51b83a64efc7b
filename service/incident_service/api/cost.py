"""The static cost of an operation: how many objects it may ask for, before it runs.

Depth, alias and token limits bound the size of a document, not of its
answer: 30 aliases of `incidents(first: 100) { timeline(first: 500) }` pass
them all and ask for 1.5 million events. The cost counts every field once
per object it may be read on: a connection's page size (`first`, `last`,
or the argument's default) multiplies everything selected inside it, and a
plain list without a page size counts as UNPAGED_LIST objects. The answer
is an upper bound, like GitHub's GraphQL node limit; it is computed from
the document and the variables only, so it can refuse before execution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)

#: Objects a list without a page size counts for (services, roles, links of one
#: incident: small, bounded lists).
UNPAGED_LIST = 10
#: Arguments that set a page size.
PAGE_ARGUMENTS = ("first", "last", "limit")


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of the operation to run (0 when the document names none)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = _root_type(schema, operation)
    if root is None:
        return 0
    walk = _Walk(schema, fragments, variables or {})
    return walk.selections(operation.selection_set, root, 1, frozenset())


def _root_type(schema: GraphQLSchema, operation: OperationDefinitionNode) -> Any:
    return {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        multiplier: int,
        spread: frozenset[str],
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, multiplier, spread)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                if inner is not None:
                    total += self.selections(selection.selection_set, inner, multiplier, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:
                    continue  # unknown or cyclic: validation refuses both
                inner = self.schema.get_type(fragment.type_condition.name.value)
                if inner is not None:
                    total += self.selections(
                        fragment.selection_set, inner, multiplier, spread | {name}
                    )
        return total

    def field(
        self, node: FieldNode, parent: GraphQLNamedType, multiplier: int, spread: frozenset[str]
    ) -> int:
        fields: dict[str, GraphQLField] = getattr(parent, "fields", {})
        definition = fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return multiplier  # a leaf, __typename, or introspection
        inner = get_named_type(definition.type)
        size = self.size(node, definition, parent)
        return multiplier + self.selections(node.selection_set, inner, multiplier * size, spread)

    def size(self, node: FieldNode, definition: GraphQLField, parent: GraphQLNamedType) -> int:
        """How many objects the field may return: its page size, 1 for an object."""
        for name in PAGE_ARGUMENTS:
            if name in definition.args:
                value = self.argument(node, name, definition.args[name].default_value)
                return max(0, value) if value is not None else UNPAGED_LIST
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if not isinstance(field_type, GraphQLList):
            return 1
        # The edges or nodes of a connection: its page size already counted them.
        return 1 if parent.name.endswith("Connection") else UNPAGED_LIST

    def argument(self, node: FieldNode, name: str, default: Any) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                return given if isinstance(given, int) else _int_or_none(default)
            return None
        return _int_or_none(default)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
