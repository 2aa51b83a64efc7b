"""Who may do what: every root field of the schema x every role, as docs/access-control.md says.

The operations are enumerated from the schema itself, so a new query,
mutation or subscription without a rule in EXPECTED fails this test (and
the table of docs/access-control.md must list it too).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import graphql
import pytest

from incident_service.api.schema import build_schema
from tests.support.api import (
    ADD_NOTE,
    create_integration,
    create_key,
    declare,
    error_codes,
    mutate,
)
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, WsClient, message_errors

ROLES = ("ANONYMOUS", "VIEWER", "RESPONDER", "ADMIN")
#: An integration's routing key: outside the role ladder, it reaches alert intake and
#: what anonymous callers reach, nothing else.
ROUTING_KEY = "ROUTING_KEY"
CALLERS = (*ROLES, ROUTING_KEY)

#: The minimum role of every root field: the rule table of docs/access-control.md, as data.
EXPECTED: dict[str, str] = {
    # Public: the status page.
    "Query.statusPage": "ANONYMOUS",
    "Query.publicIncident": "ANONYMOUS",
    "Subscription.statusPage": "ANONYMOUS",
    "Mutation.subscribeToStatusPage": "ANONYMOUS",
    # Reading internal data.
    "Query.incident": "VIEWER",
    "Query.incidents": "VIEWER",
    "Query.incidentStats": "VIEWER",
    "Query.services": "VIEWER",
    "Query.maintenance": "VIEWER",
    "Query.maintenances": "VIEWER",
    "Query.me": "VIEWER",
    "Query.actors": "VIEWER",
    "Query.incidentTemplates": "VIEWER",
    "Subscription.incidentEvents": "VIEWER",
    "Subscription.incidentChanged": "VIEWER",
    # Working incidents.
    "Mutation.declareIncident": "RESPONDER",
    "Mutation.updateIncident": "RESPONDER",
    "Mutation.transitionIncident": "RESPONDER",
    "Mutation.addNote": "RESPONDER",
    "Mutation.addTask": "RESPONDER",
    "Mutation.updateTask": "RESPONDER",
    "Mutation.reorderTasks": "RESPONDER",
    "Mutation.addLink": "RESPONDER",
    "Mutation.setIncidentRestricted": "RESPONDER",
    "Mutation.addParticipant": "RESPONDER",
    "Mutation.removeParticipant": "RESPONDER",
    "Mutation.createIncidentTemplate": "ADMIN",
    "Mutation.updateIncidentTemplate": "ADMIN",
    "Mutation.archiveIncidentTemplate": "ADMIN",
    "Mutation.removeLink": "RESPONDER",
    "Mutation.postUpdate": "RESPONDER",
    "Mutation.assignRole": "RESPONDER",
    "Mutation.unassignRole": "RESPONDER",
    "Mutation.setRootCause": "RESPONDER",
    "Mutation.linkIncidents": "RESPONDER",
    "Mutation.setServiceStatus": "RESPONDER",
    "Mutation.setServiceStatuses": "RESPONDER",
    "Mutation.scheduleMaintenance": "RESPONDER",
    "Mutation.updateMaintenance": "RESPONDER",
    "Mutation.cancelMaintenance": "RESPONDER",
    "Mutation.completeMaintenance": "RESPONDER",
    # Administration.
    "Mutation.createService": "ADMIN",
    "Mutation.updateService": "ADMIN",
    "Mutation.createApiKey": "ADMIN",
    "Mutation.revokeApiKey": "ADMIN",
    "Query.apiKeys": "ADMIN",
    "Query.statusPageSubscribers": "ADMIN",
    "Mutation.removeStatusPageSubscriber": "ADMIN",
    # Alerts: read by VIEWER, integrations managed by ADMIN, reported with a routing key.
    "Query.alerts": "VIEWER",
    "Query.integrations": "ADMIN",
    "Mutation.createIntegration": "ADMIN",
    "Mutation.rotateIntegrationKey": "ADMIN",
    "Mutation.disableIntegration": "ADMIN",
    "Mutation.reportAlert": ROUTING_KEY,
    # Outbound webhooks carry internal data: configured by ADMIN only.
    "Query.webhookEventTypes": "ADMIN",
    "Query.webhookEndpoints": "ADMIN",
    "Query.webhookDeliveries": "ADMIN",
    "Mutation.createWebhookEndpoint": "ADMIN",
    "Mutation.updateWebhookEndpoint": "ADMIN",
    "Mutation.rotateWebhookSecret": "ADMIN",
    "Mutation.deleteWebhookEndpoint": "ADMIN",
    "Mutation.redeliverWebhook": "ADMIN",
    "Mutation.sendTestWebhook": "ADMIN",
    # Post-incident review: read by VIEWER, written and published by RESPONDER.
    "Query.actionItems": "VIEWER",
    "Mutation.upsertPostmortem": "RESPONDER",
    "Mutation.submitPostmortemForReview": "RESPONDER",
    "Mutation.publishPostmortem": "RESPONDER",
    "Mutation.addActionItem": "RESPONDER",
    "Mutation.updateActionItem": "RESPONDER",
}

ACCESS_CONTROL = Path(__file__).resolve().parents[2] / "docs" / "access-control.md"


def expected_outcome(operation: str, role: str) -> str:
    rule = EXPECTED[operation]
    if role == ROUTING_KEY:
        return "allowed" if rule in ("ANONYMOUS", ROUTING_KEY) else "FORBIDDEN"
    if rule != ROUTING_KEY and ROLES.index(role) >= ROLES.index(rule):
        return "allowed"
    return "UNAUTHENTICATED" if role == "ANONYMOUS" else "FORBIDDEN"


def schema_operations() -> list[str]:
    schema = build_schema()._schema
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    return sorted(f"{t.name}.{name}" for t in roots if t is not None for name in t.fields)


def test_every_operation_has_a_rule() -> None:
    operations = schema_operations()
    missing = [op for op in operations if op not in EXPECTED]
    stale = [op for op in EXPECTED if op not in operations]
    assert not missing, f"operations without an access rule (add them to EXPECTED): {missing}"
    assert not stale, f"rules for operations that no longer exist: {stale}"


def readme_rules() -> dict[str, str]:
    """The role table of docs/access-control.md, as {operation: minimum role}."""
    text = ACCESS_CONTROL.read_text()
    section = text.split("## Roles", 1)[1].split("\n## ", 1)[0]
    rules: dict[str, str] = {}
    row = re.compile(r"^\|\s*(Query|Mutation|Subscription)\s*\|\s*`(\w+)`\s*\|(.*)\|\s*$")
    for line in section.splitlines():
        m = row.match(line)
        if not m:
            continue
        cells = [c.strip() for c in m.group(3).split("|")][: len(CALLERS)]
        ladder, routing_key = cells[: len(ROLES)], cells[len(ROLES)]
        allowed = [role for role, cell in zip(ROLES, ladder, strict=True) if cell == "yes"]
        operation = f"{m.group(1)}.{m.group(2)}"
        if not allowed:
            assert routing_key == "yes", line
            rules[operation] = ROUTING_KEY
            continue
        assert ladder == ["no"] * ROLES.index(allowed[0]) + ["yes"] * len(allowed), line
        assert (routing_key == "yes") == (allowed[0] == "ANONYMOUS"), line
        rules[operation] = allowed[0]
    return rules


def test_readme_table_is_the_rule_table() -> None:
    assert readme_rules() == EXPECTED


# --- minimal valid arguments, built from the schema -------------------------------


class Args:
    """Builds a minimal valid value for every required argument of a field."""

    def __init__(self, incident_id: str, other_id: str) -> None:
        self.incident_id = incident_id
        self.other_id = other_id

    def value(self, name: str, type_: graphql.GraphQLInputType) -> Any:
        if isinstance(type_, graphql.GraphQLNonNull):
            return self.value(name, type_.of_type)
        if isinstance(type_, graphql.GraphQLList):
            return [self.value(name, type_.of_type)]
        if isinstance(type_, graphql.GraphQLEnumType):
            return next(iter(type_.values))
        if isinstance(type_, graphql.GraphQLInputObjectType):
            return {
                fname: self.value(fname, f.type)
                for fname, f in type_.fields.items()
                if graphql.is_required_input_field(f)
            }
        scalar = type_.name  # type: ignore[union-attr]
        if scalar == "ID":
            return self.other_id if name.startswith("related") else self.incident_id
        if scalar == "String":
            return f"matrix-{uuid.uuid4().hex[:10]}"
        if scalar == "Int":
            return 1
        if scalar == "Float":
            return 1.0
        if scalar == "Boolean":
            return False
        if scalar == "DateTime":
            return "2026-01-01T00:00:00+00:00"
        if scalar == "JSON":
            return {}
        raise AssertionError(f"no value for scalar {scalar}; teach Args about it")

    def document(
        self, kind: str, field_name: str, field: graphql.GraphQLField
    ) -> tuple[str, dict[str, Any]]:
        decls, passes, variables = [], [], {}
        for i, (arg_name, arg) in enumerate(field.args.items()):
            if not graphql.is_required_argument(arg):
                continue
            var = f"a{i}"
            decls.append(f"${var}: {arg.type}")
            passes.append(f"{arg_name}: ${var}")
            variables[var] = self.value(arg_name, arg.type)
        named = graphql.get_named_type(field.type)
        selection = " { __typename }" if isinstance(named, graphql.GraphQLObjectType) else ""
        header = f"({', '.join(decls)})" if decls else ""
        call = f"({', '.join(passes)})" if passes else ""
        op = kind.lower()
        return f"{op} M{header} {{ {field_name}{call}{selection} }}", variables


# --- running the matrix ------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(gql: GraphQLClient) -> dict[str, str | None]:
    suffix = uuid.uuid4().hex[:8]
    return {
        "ANONYMOUS": None,
        "VIEWER": create_key(gql, f"matrix-viewer-{suffix}", "VIEWER")[0],
        "RESPONDER": create_key(gql, f"matrix-responder-{suffix}", "RESPONDER")[0],
        "ADMIN": create_key(gql, f"matrix-admin-{suffix}", "ADMIN")[0],
        ROUTING_KEY: create_integration(gql, f"matrix-integration-{suffix}")[0],
    }


@pytest.fixture(scope="module")
def args(gql: GraphQLClient) -> Args:
    ids = [declare(gql, f"matrix {i}")["id"] for i in (1, 2)]
    return Args(ids[0], ids[1])


def outcome_of(body: dict[str, Any], field_name: str) -> str:
    assert "data" in body or any(e.get("path") for e in body.get("errors", [])), (
        f"the request failed before execution (bad generated arguments?): {body}"
    )
    for err in body.get("errors") or []:
        code = (err.get("extensions") or {}).get("code")
        if code in ("UNAUTHENTICATED", "FORBIDDEN"):
            assert err.get("path") == [field_name], err
            return str(code)
    return "allowed"


HTTP_OPERATIONS = [op for op in EXPECTED if not op.startswith("Subscription.")]
SUBSCRIPTIONS = [op for op in EXPECTED if op.startswith("Subscription.")]


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize("operation", HTTP_OPERATIONS)
def test_http_operation_access(
    operation: str, role: str, gql: GraphQLClient, keys: dict[str, str | None], args: Args
) -> None:
    kind, field_name = operation.split(".")
    schema = build_schema()._schema
    root = schema.query_type if kind == "Query" else schema.mutation_type
    assert root is not None
    document, variables = args.document(kind, field_name, root.fields[field_name])
    response = gql.post(document, variables, key=keys[role] or False)
    assert response.status_code == 200, response.text
    assert outcome_of(response.json(), field_name) == expected_outcome(operation, role)


def _trigger(gql: GraphQLClient, incident_id: str) -> None:
    """Make something happen that every subscription hears about (userErrors are not
    this test's concern: the poke only has to cause an event)."""
    mutate(gql, ADD_NOTE, id=incident_id, body="poke")


def first_subscription_result(
    service: ServiceProcess,
    gql: GraphQLClient,
    key: str | None,
    document: str,
    variables: dict[str, Any],
    incident_id: str,
    subprotocol: str,
) -> dict[str, Any]:
    """The first result or error message (`next`, or the legacy `data`), poking the
    incident until one arrives."""
    with WsClient(service.ws_url, subprotocol) as conn:
        conn.init(key)
        conn.subscribe("1", document, variables)
        message = conn.recv_poking(lambda: _trigger(gql, incident_id), wait=2, timeout=60)
        assert message["type"] in ("next", "data", "error"), message
        conn.complete("1")
        return message


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize("operation", SUBSCRIPTIONS)
def test_subscription_access(
    operation: str,
    role: str,
    subprotocol: str,
    service: ServiceProcess,
    gql: GraphQLClient,
    keys: dict[str, str | None],
    args: Args,
) -> None:
    field_name = operation.split(".")[1]
    root = build_schema()._schema.subscription_type
    assert root is not None
    document, variables = args.document("Subscription", field_name, root.fields[field_name])
    message = first_subscription_result(
        service, gql, keys[role], document, variables, args.incident_id, subprotocol
    )
    if message["type"] == "error":
        codes = error_codes({"errors": message_errors(message)})
        outcome = next((c for c in codes if c in ("UNAUTHENTICATED", "FORBIDDEN")), None)
        assert outcome is not None, message
    else:
        outcome = outcome_of(message["payload"], field_name)
        if outcome == "allowed":
            assert message["payload"].get("data"), message
    assert outcome == expected_outcome(operation, role)
