"""The service's GraphQL API as the tests use it: documents and small helpers over HTTP.

Documents a test runs under other credentials, to see which fields a role may
read, stay in that test: their selection is part of what it checks.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tests.support.processes import ADMIN_KEY, GraphQLClient

# --- incidents ------------------------------------------------------------------------

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


def _mutation(field: str, input_type: str, selection: str = PAYLOAD) -> str:
    """A mutation of one `input` argument, as every mutation of this API is."""
    return f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {selection} }} }}"


DECLARE = _mutation("declareIncident", "DeclareIncidentInput")
UPDATE = _mutation("updateIncident", "UpdateIncidentInput")
TRANSITION = _mutation("transitionIncident", "TransitionIncidentInput")
ADD_NOTE = _mutation("addNote", "AddNoteInput")
POST_UPDATE = _mutation("postUpdate", "PostUpdateInput")
ASSIGN_ROLE = _mutation("assignRole", "AssignRoleInput")
UNASSIGN_ROLE = _mutation("unassignRole", "UnassignRoleInput")
SET_ROOT_CAUSE = _mutation("setRootCause", "SetRootCauseInput")
LINK = _mutation("linkIncidents", "LinkIncidentsInput")

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

# --- services (status-page components) ------------------------------------------------

SERVICE_PAYLOAD = (
    "service { id name description status updatedAt } userErrors { field code message }"
)
CREATE_SERVICE = _mutation("createService", "CreateServiceInput", SERVICE_PAYLOAD)
SET_SERVICE_STATUS = _mutation("setServiceStatus", "SetServiceStatusInput", SERVICE_PAYLOAD)
SERVICES = "query { services { id name description status updatedAt } }"

# --- maintenance windows --------------------------------------------------------------

MAINTENANCE_PAYLOAD = (
    "maintenance { id title description status startsAt endsAt published version }"
    " userErrors { field code message }"
)
SCHEDULE_MAINTENANCE = _mutation(
    "scheduleMaintenance", "ScheduleMaintenanceInput", MAINTENANCE_PAYLOAD
)
COMPLETE_MAINTENANCE = _mutation("completeMaintenance", "EndMaintenanceInput", MAINTENANCE_PAYLOAD)
CANCEL_MAINTENANCE = _mutation("cancelMaintenance", "EndMaintenanceInput", MAINTENANCE_PAYLOAD)

# --- post-incident review -------------------------------------------------------------

POSTMORTEM_PAYLOAD = (
    "postmortem { incidentId status summary version public publishedAt }"
    " userErrors { field code message }"
)
UPSERT_POSTMORTEM = _mutation("upsertPostmortem", "UpsertPostmortemInput", POSTMORTEM_PAYLOAD)
SUBMIT_POSTMORTEM = _mutation(
    "submitPostmortemForReview", "SubmitPostmortemInput", POSTMORTEM_PAYLOAD
)
PUBLISH_POSTMORTEM = _mutation("publishPostmortem", "PublishPostmortemInput", POSTMORTEM_PAYLOAD)


def publish_postmortem(
    gql: GraphQLClient, incident_id: str, public: bool = False, **fields: Any
) -> Any:
    """Write a new postmortem (a summary, and `fields`), submit it, publish it; return it."""
    ok(
        gql,
        UPSERT_POSTMORTEM,
        incidentId=incident_id,
        expectedVersion=0,
        **{"summary": "What happened", **fields},
    )
    ok(gql, SUBMIT_POSTMORTEM, incidentId=incident_id)
    return ok(gql, PUBLISH_POSTMORTEM, incidentId=incident_id, public=public)


# --- API keys -------------------------------------------------------------------------

CREATE_KEY = _mutation(
    "createApiKey",
    "CreateApiKeyInput",
    "secret apiKey { id name role prefix createdAt createdBy lastUsedAt revokedAt revokedBy }"
    " userErrors { field code message }",
)
REVOKE_KEY = """mutation($id: ID!) {
  revokeApiKey(input: {id: $id}) { apiKey { id revokedAt revokedBy } userErrors { code } }
}"""
LIST_KEYS = """query($all: Boolean!) {
  apiKeys(includeRevoked: $all) { id name role prefix lastUsedAt revokedAt }
}"""

# --- subscriptions --------------------------------------------------------------------

INCIDENT_EVENTS = """subscription($id: ID!, $after: Int) {
  incidentEvents(incidentId: $id, afterSeq: $after) { id incidentId seq type visibility message }
}"""
STATUS_PAGE_FIELDS = """overallStatus updatedAt
  components { name description status updatedAt }
  activeIncidents { key title publicStatus declaredAt updatedAt resolvedAt
    components { name status } updates { body publicStatus at } }"""
STATUS_PAGE = "subscription { statusPage { " + STATUS_PAGE_FIELDS + " } }"


# --- alerts and integrations -----------------------------------------------------------

ALERT_FIELDS = """
  id dedupKey status summary source severity count firstSeenAt lastSeenAt resolvedAt
  suppressed labels { name value } details integration { id name } incident { id key status }
"""
CREATE_INTEGRATION = _mutation(
    "createIntegration",
    "CreateIntegrationInput",
    "integration { id name kind prefix autoResolve } routingKey userErrors { field code message }",
)
ROTATE_INTEGRATION_KEY = _mutation(
    "rotateIntegrationKey",
    "IntegrationIdInput",
    "integration { id prefix rotatedAt } routingKey userErrors { field code message }",
)
DISABLE_INTEGRATION = _mutation(
    "disableIntegration",
    "IntegrationIdInput",
    "integration { id disabledAt } userErrors { field code message }",
)
REPORT_ALERT = _mutation(
    "reportAlert",
    "ReportAlertInput",
    "alert { id dedupKey status count suppressed } userErrors { field code message }",
)
ALERTS = f"""query($filter: AlertFilter, $first: Int, $after: String) {{
  alerts(filter: $filter, first: $first, after: $after) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ {ALERT_FIELDS} }} }}
  }}
}}"""


def create_integration(
    gql: GraphQLClient, name: str, kind: str = "EVENTS_V2", **fields: Any
) -> tuple[str, dict[str, Any]]:
    """Create an integration as the admin; return its routing key and the integration."""
    data = gql(CREATE_INTEGRATION, {"input": {"name": name, "kind": kind, **fields}}, key=ADMIN_KEY)
    payload = data["createIntegration"]
    assert payload["userErrors"] == [], payload
    return payload["routingKey"], payload["integration"]


def alerts(gql: GraphQLClient, **filter: Any) -> list[Any]:
    """Every alert matching the filter (at most 100), newest first."""
    data = gql(ALERTS, {"filter": filter or None, "first": 100})
    return [e["node"] for e in data["alerts"]["edges"]]


# --- helpers --------------------------------------------------------------------------


def mutate(gql: GraphQLClient, document: str, **input: Any) -> Any:
    """Run a one-input mutation; return its payload, userErrors and all."""
    data = gql(document, {"input": input})
    (payload,) = data.values()
    return payload


def ok(gql: GraphQLClient, document: str, **input: Any) -> Any:
    """Run a one-input mutation that must succeed; return what it made or changed.

    That is the payload's one field besides userErrors (`incident`, `service`).
    """
    payload = mutate(gql, document, **input)
    assert payload["userErrors"] == [], payload
    (result,) = (value for field, value in payload.items() if field != "userErrors")
    return result


def declare(
    gql: GraphQLClient, title: str = "Checkout is down", *, tag: str | None = None, **fields: Any
) -> Any:
    """Declare an incident; return it. `tag` comes first in its labels when given,
    so a test can filter to exactly the incidents it made."""
    if tag is not None:
        fields["labels"] = [tag, *fields.get("labels", [])]
    return ok(gql, DECLARE, title=title, **fields)


def add_note(gql: GraphQLClient, incident_id: str, body: str) -> Any:
    return ok(gql, ADD_NOTE, id=incident_id, body=body)


def post_update(
    gql: GraphQLClient, incident_id: str, body: str, visibility: str | None = None
) -> Any:
    """Post an update; without `visibility` the service's default applies."""
    chosen = {"visibility": visibility} if visibility else {}
    return ok(gql, POST_UPDATE, id=incident_id, body=body, **chosen)


def get(gql: GraphQLClient, incident_id: str) -> Any:
    return gql(GET, {"id": incident_id})["incident"]


def timeline(gql: GraphQLClient, incident_id: str) -> list[Any]:
    """The whole timeline, following the cursors (small pages, so paging is exercised)."""
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


def incident_keys(gql: GraphQLClient, order_by: str | None = None, **filter: Any) -> list[str]:
    """The INC-n keys of the listing, in its order."""
    return [e["node"]["key"] for e in listing(gql, order_by, **filter)["edges"]]


def create_service(gql: GraphQLClient, name: str, **fields: Any) -> str:
    """Create a service; return its id."""
    return str(ok(gql, CREATE_SERVICE, name=name, **fields)["id"])


def set_service_status(gql: GraphQLClient, service_id: str, status: str) -> Any:
    return ok(gql, SET_SERVICE_STATUS, id=service_id, status=status)


def schedule_maintenance(
    gql: GraphQLClient,
    title: str,
    service_ids: list[str],
    starts_at: datetime,
    ends_at: datetime,
    **fields: Any,
) -> Any:
    """Schedule a window (published unless `publish=False`); return it."""
    return ok(
        gql,
        SCHEDULE_MAINTENANCE,
        title=title,
        serviceIds=service_ids,
        startsAt=starts_at.isoformat(),
        endsAt=ends_at.isoformat(),
        **fields,
    )


def create_key(gql: GraphQLClient, name: str, role: str) -> tuple[str, dict[str, Any]]:
    """Create an API key as the admin; return its secret and the key."""
    data = gql(CREATE_KEY, {"input": {"name": name, "role": role}}, key=ADMIN_KEY)
    payload = data["createApiKey"]
    assert payload["userErrors"] == [], payload
    return payload["secret"], payload["apiKey"]


def error_codes(body: dict[str, Any]) -> list[str | None]:
    """The extensions.code of each error of a GraphQL response body, in order."""
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]


SUBSCRIBE = """mutation($input: SubscribeToStatusPageInput!) {
  subscribeToStatusPage(input: $input) { accepted userErrors { field code message } } }"""


def listen(gql: GraphQLClient) -> None:
    """Someone to hear of outbound messages: an email subscriber who never confirms (so
    nothing is ever sent). While nobody may hear of them, changes write no outbox
    message (store/listeners.py)."""
    email = f"listener-{uuid.uuid4().hex[:8]}@example.com"
    reply = gql.post(SUBSCRIBE, {"input": {"email": email}}).json()
    assert reply["data"]["subscribeToStatusPage"]["accepted"], reply
