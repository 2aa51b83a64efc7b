"""GraphQL documents and mutations for the realtime tests."""

from __future__ import annotations

from typing import Any

from tests.support.processes import GraphQLClient

EVENT_FIELDS = "id incidentId seq type visibility message"
INCIDENT_EVENTS = (
    "subscription($id: ID!, $after: Int) { incidentEvents(incidentId: $id, afterSeq: $after) { "
    + EVENT_FIELDS
    + " } }"
)
STATUS_PAGE_FIELDS = """overallStatus updatedAt
  components { name description status updatedAt }
  activeIncidents { key title publicStatus declaredAt updatedAt resolvedAt
    components { name status } updates { body publicStatus at } }"""


# Mutations used by the tests


def declare(gql: GraphQLClient, title: str, **fields: Any) -> dict[str, Any]:
    data = gql(
        """mutation($input: DeclareIncidentInput!) {
             declareIncident(input: $input) { incident { id key version } userErrors { message } }
           }""",
        {"input": {"title": title, **fields}},
    )
    assert data["declareIncident"]["userErrors"] == [], data
    return data["declareIncident"]["incident"]


def add_note(gql: GraphQLClient, incident_id: str, body: str) -> None:
    data = gql(
        """mutation($id: ID!, $body: String!) {
             addNote(input: {id: $id, body: $body}) { userErrors { message } } }""",
        {"id": incident_id, "body": body},
    )
    assert data["addNote"]["userErrors"] == [], data


def post_update(gql: GraphQLClient, incident_id: str, body: str, visibility: str) -> None:
    data = gql(
        """mutation($id: ID!, $body: String!, $v: Visibility!) {
             postUpdate(input: {id: $id, body: $body, visibility: $v}) {
               userErrors { message } } }""",
        {"id": incident_id, "body": body, "v": visibility},
    )
    assert data["postUpdate"]["userErrors"] == [], data


def create_service(gql: GraphQLClient, name: str) -> str:
    data = gql(
        """mutation($name: String!) {
             createService(input: {name: $name}) { service { id } userErrors { message } } }""",
        {"name": name},
    )
    assert data["createService"]["userErrors"] == [], data
    return data["createService"]["service"]["id"]


def set_service_status(gql: GraphQLClient, service_id: str, status: str) -> None:
    data = gql(
        """mutation($id: ID!, $status: ComponentStatus!) {
             setServiceStatus(input: {id: $id, status: $status}) { userErrors { message } } }""",
        {"id": service_id, "status": status},
    )
    assert data["setServiceStatus"]["userErrors"] == [], data
