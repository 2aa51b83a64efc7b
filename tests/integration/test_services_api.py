"""Services (status-page components): create, list, set status; every change is an event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from tests.support.api import (
    CREATE_SERVICE,
    SERVICES,
    SET_SERVICE_STATUS,
    mutate,
    set_service_status,
)
from tests.support.processes import GraphQLClient, ServiceProcess

VERSIONS = "query { services { id version } }"


@pytest.fixture(scope="module")
def db(mongo_uri: str, service: ServiceProcess) -> Iterator[Database[Any]]:
    """The service's own database, read over the wire to check what was written."""
    client: MongoClient[Any] = MongoClient(mongo_uri, tz_aware=True)
    try:
        yield client[service.env["MONGODB_DATABASE"]]
    finally:
        client.close()


def create(gql: GraphQLClient, name: str, description: str | None = None) -> Any:
    """The createService payload, userErrors and all."""
    return mutate(gql, CREATE_SERVICE, name=name, description=description)


def test_create_list_and_set_status(gql: GraphQLClient, tag: str, db: Database[Any]) -> None:
    b = create(gql, f"{tag}-b", "Payments API")["service"]
    a = create(gql, f"  {tag}-a  ")["service"]
    assert a["name"] == f"{tag}-a" and a["status"] == "OPERATIONAL"
    listed = [s for s in gql(SERVICES)["services"] if s["name"].startswith(tag)]
    assert [s["name"] for s in listed] == [f"{tag}-a", f"{tag}-b"]
    assert listed[1]["description"] == "Payments API"

    changed = set_service_status(gql, b["id"], "MAJOR_OUTAGE")
    assert changed["status"] == "MAJOR_OUTAGE"
    events = list(db.service_events.find({"serviceId": b["id"]}).sort([("at", 1), ("_id", 1)]))
    # The manual override is recorded, and so is the effective status it moved.
    assert [(e["type"], e["status"]) for e in events] == [
        ("SERVICE_CREATED", "OPERATIONAL"),
        ("SERVICE_MANUAL_STATUS_SET", "MAJOR_OUTAGE"),
        ("SERVICE_STATUS_CHANGED", "MAJOR_OUTAGE"),
    ]
    assert events[1]["data"] == {
        "manualStatus": "MAJOR_OUTAGE",
        "previousManualStatus": "OPERATIONAL",
    }
    assert events[2]["data"] == {"previous": "OPERATIONAL"} and events[2]["reason"] == "manual"
    # Setting the same status again is a no-op: no event.
    mutate(gql, SET_SERVICE_STATUS, id=b["id"], status="MAJOR_OUTAGE")
    assert db.service_events.count_documents({"serviceId": b["id"]}) == 3


@pytest.mark.parametrize(
    ("name", "code"),
    [("", "VALIDATION"), ("   ", "VALIDATION"), ("n" * 201, "VALIDATION"), ("DUP", "VALIDATION")],
)
def test_create_refused(
    gql: GraphQLClient, tag: str, db: Database[Any], name: str, code: str
) -> None:
    if name == "DUP":
        name = f"{tag}-dup"
        assert create(gql, name)["userErrors"] == []
    before = db.services.count_documents({}), db.service_events.count_documents({})
    payload = create(gql, name)
    assert payload["service"] is None
    (error,) = payload["userErrors"]
    assert error["code"] == code and error["field"] == ["input", "name"]
    assert (db.services.count_documents({}), db.service_events.count_documents({})) == before


@pytest.mark.parametrize(
    ("service_id", "code"),
    [("0123456789abcdef01234567", "NOT_FOUND"), ("nope", "VALIDATION")],
)
def test_set_status_refused(
    gql: GraphQLClient, db: Database[Any], service_id: str, code: str
) -> None:
    before = db.service_events.count_documents({})
    payload = mutate(gql, SET_SERVICE_STATUS, id=service_id, status="PARTIAL_OUTAGE")
    (error,) = payload["userErrors"]
    assert error["code"] == code and error["field"] == ["input", "id"]
    assert db.service_events.count_documents({}) == before


def test_set_status_with_a_stale_version_is_a_conflict(
    gql: GraphQLClient, tag: str, db: Database[Any]
) -> None:
    """Two responders at 3 a.m.: the second, who had not seen the first's change, is told."""
    service = create(gql, f"{tag}-guarded")["service"]
    seen = gql(VERSIONS)["services"]
    (version,) = [s["version"] for s in seen if s["id"] == service["id"]]
    first = mutate(
        gql, SET_SERVICE_STATUS, id=service["id"], status="MAJOR_OUTAGE", expectedVersion=version
    )
    assert first["userErrors"] == [] and first["service"]["status"] == "MAJOR_OUTAGE"
    before = db.service_events.count_documents({"serviceId": service["id"]})
    second = mutate(
        gql, SET_SERVICE_STATUS, id=service["id"], status="OPERATIONAL", expectedVersion=version
    )
    (error,) = second["userErrors"]
    assert error["code"] == "CONFLICT" and error["field"] == ["input", "expectedVersion"]
    assert db.service_events.count_documents({"serviceId": service["id"]}) == before
    assert db.services.find_one({"_id": service["id"]})["status"] == "MAJOR_OUTAGE"


def test_unknown_component_status_is_400(gql: GraphQLClient) -> None:
    response = gql.post(
        SET_SERVICE_STATUS, {"input": {"id": "0123456789abcdef01234567", "status": "DOWN"}}
    )
    assert response.status_code == 400 and "data" not in response.json()
