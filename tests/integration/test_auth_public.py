"""Anonymous callers see the status page and nothing internal, through any path."""

from __future__ import annotations

import json

import graphql
import httpx

from incident_service.api.schema import build_schema
from tests.integration.test_auth_matrix import EXPECTED
from tests.support.api import (
    ASSIGN_ROLE,
    SET_ROOT_CAUSE,
    add_note,
    declare,
    error_codes,
    ok,
    post_update,
)
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import WsClient, message_errors

#: Every type an anonymous caller can reach. Growing this list is a review point:
#: a type added here must hold only data meant for the public.
PUBLIC_TYPES = {
    "StatusPage",
    "PublicComponent",
    "PublicIncident",
    "PublicUpdate",
    # summary, customerImpact, resolution, publishedAt: the postmortem's customer-facing text.
    "PublicPostmortem",
    "PublicMaintenance",
    "PublicMaintenanceUpdate",
    "MaintenanceStatus",
    "UptimeDay",
    "Date",
    "ComponentStatus",
    "PublicStatus",
    "DateTime",
    "String",
    "Boolean",
    "Int",
    "Float",
    "ID",
}


def anonymous_roots() -> list[tuple[graphql.GraphQLObjectType, str]]:
    schema = build_schema()._schema
    roots = {"Query": schema.query_type, "Subscription": schema.subscription_type}
    out = []
    for op, role in EXPECTED.items():
        kind, name = op.split(".")
        # What anonymous callers can read; their one write is checked below.
        if role == "ANONYMOUS" and kind != "Mutation":
            root = roots[kind]
            assert root is not None
            out.append((root, name))
    return out


def reachable(type_: graphql.GraphQLNamedType, seen: set[str]) -> set[str]:
    if type_.name in seen:
        return seen
    seen.add(type_.name)
    if isinstance(type_, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
        for field in type_.fields.values():
            reachable(graphql.get_named_type(field.type), seen)
            for arg in field.args.values():
                reachable(graphql.get_named_type(arg.type), seen)
    if isinstance(type_, graphql.GraphQLUnionType):
        for member in type_.types:
            reachable(member, seen)
    return seen


def test_only_public_types_are_reachable_anonymously() -> None:
    seen: set[str] = set()
    for root, name in anonymous_roots():
        field = root.fields[name]
        for arg_name, arg in field.args.items():
            # A key to look up, never a filter object that could name internal fields.
            assert isinstance(graphql.get_named_type(arg.type), graphql.GraphQLScalarType), (
                f"{name}({arg_name}): public fields take plain scalar arguments only"
            )
        reachable(graphql.get_named_type(field.type), seen)
    assert seen <= PUBLIC_TYPES, f"internal types reachable anonymously: {seen - PUBLIC_TYPES}"
    assert "PublicIncident" in seen


def test_the_anonymous_subscribe_answers_with_nothing_but_its_own_payload() -> None:
    mutation = build_schema()._schema.mutation_type
    assert mutation is not None
    seen = reachable(graphql.get_named_type(mutation.fields["subscribeToStatusPage"].type), set())
    assert seen == {"SubscribeToStatusPagePayload", "UserError", "String", "Boolean"}


def full_selection(type_: graphql.GraphQLNamedType, depth: int = 0) -> str:
    """Every field (without required arguments) of an object type, recursively."""
    if not isinstance(type_, graphql.GraphQLObjectType):
        return ""
    assert depth < 6
    parts = []
    for name, field in type_.fields.items():
        if any(graphql.is_required_argument(a) for a in field.args.values()):
            continue
        parts.append(name + full_selection(graphql.get_named_type(field.type), depth + 1))
    return " { " + " ".join(parts) + " }"


def status_page_query() -> str:
    schema = build_schema()._schema
    assert schema.query_type is not None
    field = schema.query_type.fields["statusPage"]
    return "{ statusPage" + full_selection(graphql.get_named_type(field.type)) + " }"


def make_incidents(gql: GraphQLClient, tag: str) -> str:
    """An internal-only incident and a public one full of internal details; the public key."""
    hidden = declare(gql, f"SECRET internal-only {tag}", tag=tag, description="SECRET")
    add_note(gql, hidden["id"], f"SECRET note of internal {tag}")
    public = declare(
        gql,
        f"Public outage {tag}",
        description=f"SECRET description {tag}",
        labels=[f"SECRET-label-{tag}"],
        visibility="PUBLIC",
    )
    pid = public["id"]
    add_note(gql, pid, f"SECRET note {tag}")
    post_update(gql, pid, f"SECRET internal update {tag}", "INTERNAL")
    ok(gql, ASSIGN_ROLE, id=pid, role="COMMANDER", user=f"SECRET-user-{tag}")
    ok(gql, SET_ROOT_CAUSE, id=pid, rootCause=f"SECRET root cause {tag}")
    post_update(gql, pid, f"PUBLIC update {tag}", "PUBLIC")
    return str(public["key"])


def test_anonymous_status_page_holds_no_internal_data(gql: GraphQLClient, tag: str) -> None:
    key = make_incidents(gql, tag)
    response = gql.post(status_page_query(), key=False)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    text = json.dumps(body)
    # The public parts are there (so the page is not merely empty) ...
    mine = [i for i in body["data"]["statusPage"]["activeIncidents"] if i["key"] == key]
    assert mine and mine[0]["title"] == f"Public outage {tag}"
    assert f"PUBLIC update {tag}" in text
    # ... and nothing internal is.
    assert "SECRET" not in text


def test_anonymous_status_page_subscription_holds_no_internal_data(
    service: ServiceProcess, gql: GraphQLClient, tag: str
) -> None:
    document = status_page_query().replace("{ statusPage", "subscription { statusPage", 1)
    seen: list[str] = []
    with WsClient.initialised(service.ws_url, key=None) as conn:
        conn.subscribe("1", document)
        make_incidents(gql, tag)
        while f"PUBLIC update {tag}" not in (seen[-1] if seen else ""):
            message = conn.recv()
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            seen.append(json.dumps(message))
    assert seen
    assert not [m for m in seen if "SECRET" in m]


def test_anonymous_cannot_open_internal_subscriptions(
    service: ServiceProcess, gql: GraphQLClient, tag: str
) -> None:
    incident = declare(gql, f"SECRET {tag}")
    with WsClient.initialised(service.ws_url, key=None) as conn:
        conn.subscribe(
            "1",
            "subscription($id: ID!) { incidentEvents(incidentId: $id) { message actor } }",
            {"id": incident["id"]},
        )
        message = conn.recv()
        text = json.dumps(message)
        assert "SECRET" not in text
        errors = message_errors(message)
        assert "UNAUTHENTICATED" in error_codes({"errors": errors})


def test_anonymous_internal_queries_return_no_data(gql: GraphQLClient, tag: str) -> None:
    key = make_incidents(gql, tag)
    for document in (
        "query($k: String) { incident(key: $k) { title description rootCause labels"
        " roles { user } timeline { edges { node { message } } } } }",
        "query { incidents(first: 50) { edges { node { title labels } } } }",
    ):
        response = gql.post(document, {"k": key}, key=False)
        text = response.text
        assert "SECRET" not in text and "Public outage" not in text
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]


def test_status_page_html_is_public(service: ServiceProcess) -> None:
    response = httpx.get(f"{service.url}/status", timeout=30)
    assert response.status_code == 200
    assert "SECRET" not in response.text
