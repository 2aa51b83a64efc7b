"""The Statuspage-compatible JSON API over HTTP: shapes, a story, caching, CORS, public only.

Every document is checked against a JSON Schema of Statuspage's v2 shape
(written here, from Statuspage's public API documentation), with no field
beyond Statuspage's. The service is shared with the other tests, so each
test follows only the components, incidents and windows it made.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from tests.support.api import (
    ADD_NOTE,
    CANCEL_MAINTENANCE,
    COMPLETE_MAINTENANCE,
    SET_ROOT_CAUSE,
    TRANSITION,
    create_service,
    declare,
    ok,
    post_update,
    schedule_maintenance,
)
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess

# --- Statuspage v2 shapes --------------------------------------------------------------

TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"}
NULLABLE_TIME = {"anyOf": [TIME, {"type": "null"}]}
STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
ID = {"type": "string", "minLength": 1}
COMPONENT_STATUS = {
    "enum": [
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    ]
}


def _object(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with exactly these properties, all required but `optional`."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


DEFS: dict[str, Any] = {
    "page": _object(
        {
            "id": ID,
            "name": STRING,
            "url": {"type": "string", "pattern": "^https?://"},
            "time_zone": {"const": "Etc/UTC"},
            "updated_at": TIME,
        }
    ),
    "status": _object(
        {
            "indicator": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
            "description": {
                "enum": [
                    "All Systems Operational",
                    "Minor Service Outage",
                    "Partial System Outage",
                    "Major System Outage",
                    "Service Under Maintenance",
                ]
            },
        }
    ),
    "component": _object(
        {
            "id": ID,
            "name": STRING,
            "status": COMPONENT_STATUS,
            "created_at": TIME,
            "updated_at": TIME,
            "position": {"type": "integer", "minimum": 1},
            "description": NULLABLE_STRING,
            "showcase": {"type": "boolean"},
            "start_date": {"anyOf": [{"type": "null"}, {"type": "string", "format": "date"}]},
            "group_id": {"type": ["string", "null"]},
            "page_id": ID,
            "group": {"type": "boolean"},
            "only_show_if_degraded": {"type": "boolean"},
            "components": {"type": "array", "items": ID},
        },
        optional=("components",),
    ),
    "incident_update": _object(
        {
            "id": ID,
            "status": {
                "enum": [
                    "investigating",
                    "identified",
                    "monitoring",
                    "resolved",
                    "postmortem",
                    "scheduled",
                    "in_progress",
                    "verifying",
                    "completed",
                ]
            },
            "body": STRING,
            "incident_id": ID,
            "created_at": TIME,
            "updated_at": TIME,
            "display_at": TIME,
            "affected_components": {"type": ["array", "null"]},
            "deliver_notifications": {"type": "boolean"},
            "custom_tweet": NULLABLE_STRING,
            "tweet_id": NULLABLE_STRING,
        }
    ),
}
_INCIDENT_FIELDS: dict[str, Any] = {
    "id": ID,
    "name": STRING,
    "status": {"enum": ["investigating", "identified", "monitoring", "resolved", "postmortem"]},
    "created_at": TIME,
    "updated_at": TIME,
    "monitoring_at": NULLABLE_TIME,
    "resolved_at": NULLABLE_TIME,
    "impact": {"enum": ["none", "minor", "major", "critical"]},
    "shortlink": {"type": "string", "pattern": "^https?://"},
    "started_at": TIME,
    "page_id": ID,
    "incident_updates": {"type": "array", "items": {"$ref": "#/$defs/incident_update"}},
    "components": {"type": "array", "items": {"$ref": "#/$defs/component"}},
}
DEFS["incident"] = _object(_INCIDENT_FIELDS)
DEFS["scheduled_maintenance"] = _object(
    {
        **_INCIDENT_FIELDS,
        "status": {"enum": ["scheduled", "in_progress", "verifying", "completed"]},
        "impact": {"const": "maintenance"},
        "scheduled_for": TIME,
        "scheduled_until": TIME,
    }
)


def _document(**parts: Any) -> dict[str, Any]:
    return {"$defs": DEFS, **_object({"page": {"$ref": "#/$defs/page"}, **parts})}


def _list(of: str, max_items: int | None = None, **item: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "array",
        "items": {"allOf": [{"$ref": f"#/$defs/{of}"}, {"properties": item}]},
    }
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


UNRESOLVED = {"status": {"enum": ["investigating", "identified", "monitoring"]}}
SCHEMAS: dict[str, dict[str, Any]] = {
    "summary.json": _document(
        components=_list("component"),
        incidents=_list("incident", **UNRESOLVED),
        scheduled_maintenances=_list(
            "scheduled_maintenance", status={"enum": ["scheduled", "in_progress", "verifying"]}
        ),
        status={"$ref": "#/$defs/status"},
    ),
    "status.json": _document(status={"$ref": "#/$defs/status"}),
    "components.json": _document(components=_list("component")),
    "incidents.json": _document(incidents=_list("incident", max_items=50)),
    "incidents/unresolved.json": _document(incidents=_list("incident", **UNRESOLVED)),
    "scheduled-maintenances.json": _document(
        scheduled_maintenances=_list("scheduled_maintenance", max_items=50)
    ),
    "scheduled-maintenances/upcoming.json": _document(
        scheduled_maintenances=_list("scheduled_maintenance", status={"const": "scheduled"})
    ),
    "scheduled-maintenances/active.json": _document(
        scheduled_maintenances=_list(
            "scheduled_maintenance", status={"enum": ["in_progress", "verifying"]}
        )
    ),
}
INDICATOR = {
    "operational": "none",
    "under_maintenance": "maintenance",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}
SEVERITY = list(INDICATOR)

# --- helpers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http(service: ServiceProcess) -> Iterator[httpx.Client]:
    """An anonymous client: no credentials at all."""
    with httpx.Client(base_url=service.url, timeout=30) as client:
        yield client


def get(http: httpx.Client, name: str) -> Any:
    """GET /api/v2/<name>, checked against its schema; the decoded body."""
    response = http.get(f"/api/v2/{name}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    Draft202012Validator(SCHEMAS[name]).validate(body)
    return body


def every_body(http: httpx.Client) -> dict[str, str]:
    """The raw text of every public document: the JSON API and both feeds."""
    paths = [f"/api/v2/{name}" for name in SCHEMAS] + ["/status/feed.atom", "/status/feed.rss"]
    bodies = {}
    for path in paths:
        response = http.get(path)
        assert response.status_code == 200, (path, response.text)
        bodies[path] = response.text
    return bodies


def assert_nowhere(http: httpx.Client, *markers: str) -> None:
    for path, body in every_body(http).items():
        for marker in markers:
            assert marker not in body, f"{marker!r} leaked into {path}"


def by_id(items: list[Any], id_: str) -> Any:
    return next((item for item in items if item["id"] == id_), None)


def component(http: httpx.Client, id_: str) -> Any:
    return by_id(get(http, "components.json")["components"], id_)


def incident_in(http: httpx.Client, name: str, key: str) -> Any:
    return by_id(get(http, name)["incidents"], key)


def maintenance_in(http: httpx.Client, name: str, id_: str) -> Any:
    return by_id(get(http, name)["scheduled_maintenances"], id_)


def assert_indicator_is_the_worst_component(http: httpx.Client) -> None:
    """Robust to other tests' components: the indicator follows the worst one listed."""
    summary = get(http, "summary.json")
    statuses = [c["status"] for c in summary["components"]]
    worst = max(statuses, key=SEVERITY.index, default="operational")
    assert summary["status"]["indicator"] == INDICATOR[worst]


def secret() -> str:
    """A unique marker for internal data: it must never appear in a public document."""
    return f"internal-{uuid.uuid4().hex}"


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


# --- tests -----------------------------------------------------------------------------


def test_every_endpoint_has_statuspages_shape(http: httpx.Client, service: ServiceProcess) -> None:
    for name in SCHEMAS:
        body = get(http, name)
        # No STATUS_PAGE_URL here: the page is where the request came, plus /status.
        assert body["page"]["url"] == f"{service.url}/status"
    ids = {get(http, name)["page"]["id"] for name in SCHEMAS}
    assert len(ids) == 1 and re.fullmatch(r"[0-9a-f]{12}", ids.pop())


def test_an_incident_from_outage_to_resolved(
    http: httpx.Client, gql: GraphQLClient, service: ServiceProcess, tag: str
) -> None:
    hidden = secret()
    api = create_service(gql, f"{tag} API", group=f"{tag} Core", description="Public API")
    internal = create_service(gql, f"{tag} {hidden} db", public=False)
    incident = declare(
        gql,
        f"{tag} checkout errors",
        description=f"{hidden} description",
        labels=[hidden],
        componentImpacts=[
            {"serviceId": api, "status": "MAJOR_OUTAGE"},
            {"serviceId": internal, "status": "MAJOR_OUTAGE"},
        ],
    )
    key = incident["key"]
    ok(gql, ADD_NOTE, id=incident["id"], body=f"{hidden} note")
    post_update(gql, incident["id"], f"{hidden} internal update", "INTERNAL")
    ok(gql, SET_ROOT_CAUSE, id=incident["id"], rootCause=f"{hidden} root cause")

    # The component is down at once; the incident is not public yet.
    down = wait_for(lambda: (c := component(http, api)) and c["status"] == "major_outage" and c)
    group = by_id(get(http, "components.json")["components"], down["group_id"])
    assert group["group"] is True and group["name"] == f"{tag} Core" and api in group["components"]
    assert group["status"] == "major_outage"
    assert get(http, "status.json")["status"] == {
        "indicator": "critical",
        "description": "Major System Outage",
    }
    assert incident_in(http, "incidents.json", key) is None
    assert_nowhere(http, hidden)

    # A public update publishes it.
    post_update(gql, incident["id"], f"{tag} we are investigating", "PUBLIC")
    shown = wait_for(lambda: incident_in(http, "incidents/unresolved.json", key))
    assert shown["name"] == f"{tag} checkout errors"
    assert (shown["status"], shown["impact"]) == ("investigating", "critical")
    assert shown["resolved_at"] is None
    assert shown["shortlink"] == f"{service.url}/status/incidents/{key}"
    assert [u["body"] for u in shown["incident_updates"]] == [f"{tag} we are investigating"]
    assert [c["id"] for c in shown["components"]] == [api]
    assert incident_in(http, "summary.json", key) == shown
    assert incident_in(http, "incidents.json", key) == shown
    assert_indicator_is_the_worst_component(http)
    assert_nowhere(http, hidden)

    # Through MONITORING to RESOLVED, with a public word at each step.
    ok(gql, TRANSITION, id=incident["id"], to="MONITORING", publicUpdate=f"{tag} fix deployed")
    ok(gql, TRANSITION, id=incident["id"], to="RESOLVED", publicUpdate="Resolved")
    resolved = wait_for(
        lambda: (i := incident_in(http, "incidents.json", key)) and i["status"] == "resolved" and i
    )
    assert resolved["impact"] == "critical"  # the impact it had stays
    assert resolved["resolved_at"] is not None and resolved["monitoring_at"] is not None
    assert resolved["monitoring_at"] <= resolved["resolved_at"]
    assert [(u["status"], u["body"]) for u in resolved["incident_updates"]] == [
        ("resolved", "Resolved"),
        ("monitoring", f"{tag} fix deployed"),
        ("investigating", f"{tag} we are investigating"),
    ]
    assert incident_in(http, "incidents/unresolved.json", key) is None
    assert incident_in(http, "summary.json", key) is None
    # Resolving recovers the component by itself.
    assert component(http, api)["status"] == "operational"
    assert_indicator_is_the_worst_component(http)
    assert_nowhere(http, hidden)


def test_maintenance_windows_upcoming_active_and_cancelled(
    http: httpx.Client, gql: GraphQLClient, tag: str
) -> None:
    hidden = secret()
    db = create_service(gql, f"{tag} database")
    upcoming = schedule_maintenance(
        gql, f"{tag} upgrade later", [db], later(days=1), later(days=1, hours=1)
    )
    active = schedule_maintenance(
        gql, f"{tag} upgrade now", [db], later(minutes=-1), later(hours=1)
    )
    unpublished = schedule_maintenance(
        gql, f"{tag} {hidden}", [db], later(minutes=-1), later(hours=1), publish=False
    )
    try:
        listed = wait_for(
            lambda: maintenance_in(http, "scheduled-maintenances/upcoming.json", upcoming["id"])
        )
        assert listed["name"] == f"{tag} upgrade later"
        assert listed["status"] == "scheduled" and listed["impact"] == "maintenance"
        assert [c["id"] for c in listed["components"]] == [db]
        assert listed["scheduled_for"] < listed["scheduled_until"]
        assert maintenance_in(http, "summary.json", upcoming["id"]) == listed

        # The clock starts the other one: active, and its component under maintenance.
        running = wait_for(
            lambda: maintenance_in(http, "scheduled-maintenances/active.json", active["id"])
        )
        assert running["status"] == "in_progress"
        assert maintenance_in(http, "scheduled-maintenances/upcoming.json", active["id"]) is None
        assert wait_for(lambda: component(http, db)["status"] == "under_maintenance")
        assert maintenance_in(http, "summary.json", active["id"])["status"] == "in_progress"
        assert_indicator_is_the_worst_component(http)
        assert maintenance_in(http, "scheduled-maintenances.json", unpublished["id"]) is None
        assert_nowhere(http, hidden)

        # Completed: in the history, not active; cancelled: gone, as Statuspage has no such status.
        ok(gql, COMPLETE_MAINTENANCE, id=active["id"], message=f"{tag} all done")
        ok(gql, CANCEL_MAINTENANCE, id=upcoming["id"])
        done = wait_for(
            lambda: (
                (m := maintenance_in(http, "scheduled-maintenances.json", active["id"]))
                and m["status"] == "completed"
                and m
            )
        )
        assert done["resolved_at"] is not None
        assert done["incident_updates"][0]["body"] == f"{tag} all done"
        assert maintenance_in(http, "scheduled-maintenances/active.json", active["id"]) is None
        wait_for(
            lambda: maintenance_in(http, "scheduled-maintenances.json", upcoming["id"]) is None
        )
        assert maintenance_in(http, "scheduled-maintenances/upcoming.json", upcoming["id"]) is None
    finally:
        # Leave no window running for the tests after this one.
        for window in (active, unpublished):
            gql(COMPLETE_MAINTENANCE, {"input": {"id": window["id"]}})


def test_etag_and_304(http: httpx.Client) -> None:
    for path in ("/api/v2/summary.json", "/api/v2/status.json"):

        def revalidated(path: str = path) -> bool:
            first = http.get(path)
            tag = first.headers["etag"]
            assert re.fullmatch(r'"[0-9a-f]{32}"', tag)
            assert first.headers["cache-control"] == "public, max-age=10"
            again = http.get(path, headers={"if-none-match": tag})
            if again.status_code == 200:  # the page changed in between (other tests' work)
                return False
            assert again.status_code == 304 and again.content == b""
            assert again.headers["etag"] == tag
            assert http.get(path, headers={"if-none-match": f"W/{tag}"}).status_code == 304
            return True

        wait_for(revalidated)
        assert http.get(path, headers={"if-none-match": '"other"'}).status_code == 200


def test_cors_is_open_for_the_documents_and_unchanged_for_graphql(http: httpx.Client) -> None:
    origin = {"origin": "https://widget.example"}

    def preflight(path: str, method: str, headers: str) -> httpx.Response:
        return http.options(
            path,
            headers={
                **origin,
                "access-control-request-method": method,
                "access-control-request-headers": headers,
            },
        )

    simple = http.get("/api/v2/status.json", headers=origin)
    assert simple.status_code == 200
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "etag" in simple.headers["access-control-expose-headers"].lower()
    allowed = preflight("/api/v2/summary.json", "GET", "if-none-match")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "*"
    assert "GET" in allowed.headers["access-control-allow-methods"]
    # /graphql keeps its allow-list (empty here): refused, no CORS header.
    refused = preflight("/graphql", "POST", "content-type")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    query = http.post(
        "/graphql", json={"query": "{ statusPage { overallStatus } }"}, headers=origin
    )
    assert query.status_code == 200
    assert "access-control-allow-origin" not in query.headers


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writes_are_a_json_405(http: httpx.Client, method: str) -> None:
    response = http.request(method, "/api/v2/summary.json", json={"x": 1})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path", ["/api/v2", "/api/v2/", "/api/v2/nope.json", "/api/v2/incidents/INC-1.json"]
)
def test_unknown_paths_are_a_json_404(http: httpx.Client, path: str) -> None:
    for method in ("GET", "POST"):
        response = http.request(method, path)
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "not_found" and "/api/v2/summary.json" in error["message"]


def test_head_answers_without_a_body(http: httpx.Client) -> None:
    response = http.head("/api/v2/status.json")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["etag"]
