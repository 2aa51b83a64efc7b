"""The static cost of operations, against the real schema (no I/O)."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse

from incident_service.api.cost import UNPAGED_LIST, operation_cost
from incident_service.api.schema import build_schema
from incident_service.config import Settings

SCHEMA = build_schema()._schema
OPERATIONS = Path(__file__).resolve().parents[3] / "schema" / "operations"
LIMIT = Settings().max_query_cost

EVENTS = "timeline(first: 500) { edges { node { seq } } }"
PAGE = f"incidents(first: 100) {{ edges {{ node {{ id {EVENTS} }} }} }}"


def cost(text: str, variables: dict[str, int] | None = None, name: str | None = None) -> int:
    return operation_cost(SCHEMA, parse(text), name, variables)


def test_page_sizes_multiply_through_nested_connections() -> None:
    # incidents: 1; per incident (100): edges, node, id, timeline = 4;
    # per event (100 x 500): edges, node, seq = 3.
    assert cost(f"{{ {PAGE} }}") == 1 + 100 * 4 + 100 * 500 * 3


def test_the_review_query_is_far_over_the_limit_and_one_page_is_not() -> None:
    aliased = " ".join(f"a{n}: {PAGE}" for n in range(30))
    assert cost(f"{{ {aliased} }}") == 30 * cost(f"{{ {PAGE} }}")
    assert cost(f"{{ {aliased} }}") > 10 * LIMIT
    assert cost("{ incidents(first: 20) { edges { node { id title } } } }") < LIMIT


def test_defaults_variables_fragments_and_unpaged_lists() -> None:
    # No first: the argument's default (20 incidents, 50 events).
    assert cost("{ incidents { edges { node { id } } } }") == 1 + 20 * 3
    text = "query($n: Int) { incidents(first: $n) { edges { node { ...F } } } } " \
        "fragment F on Incident { id services { id name } }"  # fmt: skip
    # Per incident: edges, node, id, services; per service (unpaged): id, name.
    assert cost(text, {"n": 7}) == 1 + 7 * (4 + UNPAGED_LIST * 2)
    assert cost(text, {}) == 1 + 20 * (4 + UNPAGED_LIST * 2)


@pytest.mark.parametrize("path", sorted(OPERATIONS.glob("*.graphql")), ids=lambda p: p.stem)
def test_every_shipped_operation_is_within_the_default_limit(path: Path) -> None:
    assert cost(path.read_text()) <= LIMIT


def test_variables_are_read_as_execution_reads_them() -> None:
    """Defaults of the operation's variables apply, and 100.0 is 100 (the review's
    bypass: with no variables sent, the schema's defaults were costed instead)."""
    text = (
        "query($n: Int = 100, $m: Int = 500) { "
        + " ".join(
            f"a{k}: incidents(first: $n) {{ edges {{ node {{ timeline(first: $m) "
            "{ edges { node { id } } } } } }"
            for k in range(30)
        )
        + " }"
    )
    costed = cost(text, {})
    assert costed == cost(text, {"n": 100.0, "m": 500}) == cost(text, {"n": 100, "m": 500})
    assert costed > 10 * LIMIT


def test_nested_fragments_are_costed_once_each() -> None:
    """Each fragment spreading the next one twice, 40 deep: 2^40 walks before."""
    depth = 40
    fragments = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(depth)
    )
    text = f"query {{ ...F0 }} {fragments} fragment F{depth} on Query {{ __typename }}"
    assert cost(text) == 2**depth


def test_chains_of_links_count_at_their_bound() -> None:
    link = "links { incident { id } }"
    # incident, links, then per link (200): incident, id.
    assert cost(f'{{ incident(key: "INC-1") {{ {link} }} }}') == 1 + 1 + 200 * 2
