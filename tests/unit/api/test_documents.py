"""The document cache answers exactly as parsing and validating afresh would."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, parse, specified_rules, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from incident_service.api.documents import Documents
from incident_service.api.schema import build_schema
from incident_service.config import Settings

OPERATIONS = Path(__file__).parents[3] / "schema" / "operations"
SETTINGS = Settings(introspection=False)
SCHEMA: GraphQLSchema = build_schema(SETTINGS)._schema
SDL = build_schema(SETTINGS).as_str()
SCALARS = {
    "Date": st.just("2026-01-01").map(nodes.String),
    "DateTime": st.just("2026-01-01T00:00:00Z").map(nodes.String),
    "JSON": st.just("{}").map(nodes.String),
}

HOSTILE = [
    '{ incident(id: "x") ' + "{ links { incident " * 8 + "{ id }" + " } }" * 8 + " }",  # deep
    "{ " + " ".join(f"a{n}: __typename" for n in range(40)) + " }",  # too many aliases
    "{ __schema { types { name } } }",  # introspection, disabled here
    "{ incident(id: 1, id: 2) { id } }",  # duplicate argument
    "{ nope }",  # unknown field
    "query Q { __typename } query Q { __typename }",  # duplicate operation names
    "{ __typename @skip(if: true) @skip(if: true) }",  # repeated directive
]


def uncached(text: str) -> list[GraphQLError]:
    """What every request did before the cache: fresh limiter rules, then validate."""
    rules = (
        *specified_rules,
        *QueryDepthLimiter(max_depth=SETTINGS.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=SETTINGS.max_aliases).validation_rules,
        NoSchemaIntrospectionCustomRule,
        MaybeNullValidationRule,
        OneOfInputValidationRule,
    )
    return validate(SCHEMA, parse(text, max_tokens=SETTINGS.max_tokens), rules)


def answers(errors: list[GraphQLError]) -> list[tuple[str, object]]:
    return [(e.message, e.locations) for e in errors]


def through_cache(documents: Documents, text: str) -> list[GraphQLError]:
    known = documents.get(text)
    document = known.document if known else parse(text, max_tokens=SETTINGS.max_tokens)
    return documents.validated(text, document, SCHEMA).fresh_errors()


def check_same(text: str) -> None:
    documents = Documents(SETTINGS)
    first = through_cache(documents, text)
    again = through_cache(documents, text)
    assert documents.get(text) is not None
    assert answers(first) == answers(again) == answers(uncached(text))


def test_every_shipped_operation_is_answered_as_without_the_cache() -> None:
    texts = [p.read_text() for p in sorted(OPERATIONS.rglob("*.graphql"))]
    assert texts
    for text in texts:
        check_same(text)


def test_hostile_documents_are_refused_as_without_the_cache() -> None:
    for text in HOSTILE:
        assert uncached(text), text  # each one is refused
        check_same(text)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    document=st.one_of(
        from_schema(SDL, custom_scalars=SCALARS, mode=Mode.POSITIVE),
        from_schema(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
    )
)
def test_generated_documents_are_answered_as_without_the_cache(document: str) -> None:
    check_same(document)


def test_a_flood_of_unique_documents_stays_within_the_bound() -> None:
    documents = Documents(Settings(document_cache_bytes=20_000))
    for n in range(3_000):
        text = f"query Q{n} {{ __typename }}"
        documents.validated(text, parse(text), SCHEMA)
        assert documents.size <= 20_000
    assert 0 < len(documents) < 3_000
    # The newest are kept, the oldest evicted.
    assert documents.get("query Q2999 { __typename }") is not None
    assert documents.get("query Q0 { __typename }") is None


def test_a_document_larger_than_the_whole_cache_is_answered_but_not_kept() -> None:
    documents = Documents(Settings(document_cache_bytes=100))
    text = "{ " + " ".join(f"a{n}: __typename" for n in range(20)) + " }"
    assert documents.validated(text, parse(text), SCHEMA).errors == ()
    assert documents.get(text) is None and documents.size == 0


def test_cached_errors_are_handed_out_as_copies() -> None:
    documents = Documents(SETTINGS)
    first = through_cache(documents, "{ nope }")
    first[0].message = "rewritten by an extension"
    assert through_cache(documents, "{ nope }")[0].message != "rewritten by an extension"


def test_a_cost_without_variables_is_counted_once_per_operation_name() -> None:
    from incident_service.api.cost import operation_cost

    text = "query A { incidents(first: 40) { edges { node { key } } } } query B { me { name } }"
    prepared = Documents(SETTINGS).validated(text, parse(text), SCHEMA)
    for name in ("A", "B"):
        assert prepared.cost(SCHEMA, name, None) == operation_cost(
            SCHEMA, prepared.document, name, None
        )
    assert set(prepared.costs) == {"A", "B"}
    # Names are the client's to choose: no more than a few are kept per document.
    for i in range(100):
        prepared.cost(SCHEMA, f"Unknown{i}", None)
    assert len(prepared.costs) <= 8
    # With variables the cost is counted afresh (they change it).
    assert prepared.cost(SCHEMA, "A", {"x": 1}) == prepared.costs["A"]
