"""GraphQL documents and small helpers shared by the incident integration tests."""

from __future__ import annotations

from typing import Any

from tests.support.processes import GraphQLClient

INCIDENT_FIELDS = """
  id key title description status publicStatus category impact urgency priority
  visibility labels rootCause resolution version declaredBy
  impactStartedAt detectedAt declaredAt acknowledgedAt identifiedAt mitigatedAt
  resolvedAt closedAt updatedAt
  services { id name status }
  roles { role user assignedAt }
  links { kind incidentId linkedAt incident { id key } }
"""

PAYLOAD = f"incident {{ {INCIDENT_FIELDS} }} userErrors {{ field code message }}"

DECLARE = f"""mutation($input: DeclareIncidentInput!) {{
  declareIncident(input: $input) {{ {PAYLOAD} }} }}"""
UPDATE = f"""mutation($input: UpdateIncidentInput!) {{
  updateIncident(input: $input) {{ {PAYLOAD} }} }}"""
TRANSITION = f"""mutation($input: TransitionIncidentInput!) {{
  transitionIncident(input: $input) {{ {PAYLOAD} }} }}"""
ADD_NOTE = f"""mutation($input: AddNoteInput!) {{ addNote(input: $input) {{ {PAYLOAD} }} }}"""
POST_UPDATE = f"""mutation($input: PostUpdateInput!) {{
  postUpdate(input: $input) {{ {PAYLOAD} }} }}"""
ASSIGN_ROLE = f"""mutation($input: AssignRoleInput!) {{
  assignRole(input: $input) {{ {PAYLOAD} }} }}"""
UNASSIGN_ROLE = f"""mutation($input: UnassignRoleInput!) {{
  unassignRole(input: $input) {{ {PAYLOAD} }} }}"""
SET_ROOT_CAUSE = f"""mutation($input: SetRootCauseInput!) {{
  setRootCause(input: $input) {{ {PAYLOAD} }} }}"""
LINK = f"""mutation($input: LinkIncidentsInput!) {{
  linkIncidents(input: $input) {{ {PAYLOAD} }} }}"""

GET = f"""query($id: ID, $key: String) {{ incident(id: $id, key: $key) {{ {INCIDENT_FIELDS} }} }}"""

TIMELINE = """query($id: ID!, $first: Int, $after: String) {
  incident(id: $id) {
    version
    timeline(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id incidentId seq type at actor visibility message data } }
    }
  }
}"""

LIST = """query($filter: IncidentFilter, $first: Int, $after: String, $orderBy: IncidentOrder) {
  incidents(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id key title status priority category labels declaredAt } }
  }
}"""

COUNT = "query($filter: IncidentFilter) { incidents(filter: $filter, first: 0) { totalCount } }"

CREATE_SERVICE = """mutation($input: CreateServiceInput!) {
  createService(input: $input) {
    service { id name description status updatedAt } userErrors { field code message }
  }
}"""


def declare(gql: GraphQLClient, tag: str, title: str = "Checkout is down", **fields: Any) -> Any:
    """Declare an incident labelled `tag`; returns it (asserts no userErrors)."""
    labels = [tag, *fields.pop("labels", [])]
    data = gql(DECLARE, {"input": {"title": title, "labels": labels, **fields}})
    payload = data["declareIncident"]
    assert payload["userErrors"] == [], payload
    return payload["incident"]


def mutate(gql: GraphQLClient, document: str, **input: Any) -> Any:
    """Run a one-input mutation; returns its payload (incident + userErrors)."""
    data = gql(document, {"input": input})
    (payload,) = data.values()
    return payload


def ok(gql: GraphQLClient, document: str, **input: Any) -> Any:
    payload = mutate(gql, document, **input)
    assert payload["userErrors"] == [], payload
    return payload["incident"]


def get(gql: GraphQLClient, incident_id: str) -> Any:
    return gql(GET, {"id": incident_id})["incident"]


def timeline(gql: GraphQLClient, incident_id: str) -> list[Any]:
    """The whole timeline, following the cursors."""
    events: list[Any] = []
    after = None
    while True:
        data = gql(TIMELINE, {"id": incident_id, "first": 7, "after": after})
        page = data["incident"]["timeline"]
        events += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return events
        after = page["pageInfo"]["endCursor"]


def count(gql: GraphQLClient, **filter: Any) -> int:
    return int(gql(COUNT, {"filter": filter or None})["incidents"]["totalCount"])


def listing(
    gql: GraphQLClient, order_by: str | None = None, first: int = 100, **filter: Any
) -> Any:
    variables = {"filter": filter, "first": first, "orderBy": order_by}
    return gql(LIST, {k: v for k, v in variables.items() if v is not None})["incidents"]


def keys(gql: GraphQLClient, order_by: str | None = None, **filter: Any) -> list[str]:
    return [e["node"]["key"] for e in listing(gql, order_by, **filter)["edges"]]
