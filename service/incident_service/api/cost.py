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
from graphql.execution.values import get_variable_values

#: Objects a list without a page size counts for (an incident's services, updates,
#: the status page's components: small lists in practice).
UNPAGED_LIST = 10
#: Lists without a page size that may hold many more, at their domain's bounds: a
#: chain of incident links must not pass as ten links a level.
LIST_BOUNDS = {
    ("Incident", "links"): 200,
    ("Incident", "children"): 200,
    ("Incident", "roles"): 100,
    ("Incident", "participants"): 100,
}
#: Arguments that set a page size.
PAGE_ARGUMENTS = ("first", "last", "limit")


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of the operation to run (0 when the document names none, or when its
    variables do not coerce: it is then refused before it runs anyway)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    # Coerced as execution will coerce them: defaults applied, 100.0 read as 100.
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = _root_type(schema, operation)
    if root is None:
        return 0
    return _Walk(schema, fragments, coerced.coerced).unit(operation.selection_set, root)


def _root_type(schema: GraphQLSchema, operation: OperationDefinitionNode) -> Any:
    return {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]


class _Walk:
    """Costs per object read: a selection's cost on N objects is N times its cost on
    one, so each fragment is costed once however often it is spread (a fragment that
    spreads the next one twice, twenty deep, would otherwise take a million walks)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self._fragment_costs: dict[str, int] = {}
        self._visiting: set[str] = set()

    def unit(self, selection_set: SelectionSetNode, parent: GraphQLNamedType) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                if inner is not None:
                    total += self.unit(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        known = self._fragment_costs.get(name)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in self._visiting:
            return 0  # unknown or cyclic: validation refuses both
        inner = self.schema.get_type(fragment.type_condition.name.value)
        self._visiting.add(name)
        cost = self.unit(fragment.selection_set, inner) if inner is not None else 0
        self._visiting.discard(name)
        self._fragment_costs[name] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        fields: dict[str, GraphQLField] = getattr(parent, "fields", {})
        definition = fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return 1  # a leaf, __typename, or introspection
        inner = get_named_type(definition.type)
        return 1 + self.size(node, definition, parent) * self.unit(node.selection_set, inner)

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
        if parent.name.endswith("Connection"):
            return 1
        return LIST_BOUNDS.get((parent.name, node.name.value), UNPAGED_LIST)

    def argument(self, node: FieldNode, name: str, default: Any) -> int | None:
        """The page size asked for; an explicit null or a missing value is the
        argument's default, as the resolver reads it."""
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int) and not isinstance(given, bool):
                    return given
        return _int_or_none(default)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
