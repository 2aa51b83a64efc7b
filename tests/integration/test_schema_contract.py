"""The contract: exported SDL without drift, described types, and the frontend operations."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import graphql
import pytest

from incident_service.api.persisted import MANIFEST_PATH, Manifest
from tests.support.processes import SERVICE_BIN, GraphQLClient

REPO = Path(__file__).resolve().parents[2]
SDL = REPO / "schema" / "schema.graphql"
OPERATIONS = REPO / "schema" / "operations"


def _schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(SDL.read_text())


def _operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


def test_exported_schema_matches_the_file() -> None:
    exported = subprocess.run(
        [SERVICE_BIN, "export-schema"], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert exported == SDL.read_text(), (
        "schema/schema.graphql is stale: run `incident-service export-schema > "
        "schema/schema.graphql` and commit it"
    )


def test_operations_manifest_matches_the_folder() -> None:
    """The persisted-documents manifest the service loads is schema/operations/, hashed."""
    exported = subprocess.run(
        [SERVICE_BIN, "operations-manifest", "schema/operations"],
        capture_output=True, text=True, timeout=120, check=True, cwd=REPO,
    )  # fmt: skip
    shipped = MANIFEST_PATH.read_text(encoding="utf-8")
    assert exported.stdout == shipped, (
        "service/incident_service/api/operations.json is stale: run `incident-service "
        "operations-manifest schema/operations > service/incident_service/api/operations.json`"
    )
    manifest = Manifest.load()
    for path in sorted((REPO / "schema" / "operations").glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        assert manifest.bodies[hashlib.sha256(text.encode()).hexdigest()] == text
        assert path.stem in manifest.names


def test_every_type_and_field_has_a_description() -> None:
    missing = []
    for name, type_ in _schema().type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        # Root types are merged from parts and need none; their fields do.
        if not type_.description and name not in {"Query", "Mutation", "Subscription"}:
            missing.append(name)
        fields = getattr(type_, "fields", {})
        missing += [f"{name}.{f}" for f, field in fields.items() if not field.description]
    assert missing == []


def test_core_contract_names() -> None:
    schema = _schema()
    query, mutation = schema.query_type, schema.mutation_type
    assert query is not None and mutation is not None
    assert {"incident", "incidents", "services"} <= set(query.fields)
    assert {
        "declareIncident",
        "updateIncident",
        "transitionIncident",
        "addNote",
        "postUpdate",
        "assignRole",
        "setRootCause",
        "linkIncidents",
        "createService",
        "setServiceStatus",
    } <= set(mutation.fields)
    enums = {
        "IncidentStatus": "TRIGGERED ACKNOWLEDGED INVESTIGATING IDENTIFIED MONITORING "
        "RESOLVED CLOSED",
        "PublicStatus": "INVESTIGATING IDENTIFIED MONITORING RESOLVED",
        "Priority": "P1 P2 P3 P4 P5",
        "IncidentCategory": "OUTAGE SECURITY NETWORK PERFORMANCE SOFTWARE_BUG HARDWARE "
        "DISASTER OTHER",
        "IncidentRole": "COMMANDER COMMUNICATIONS_LEAD SCRIBE RESPONDER",
    }
    for name, values in enums.items():
        enum = schema.get_type(name)
        assert isinstance(enum, graphql.GraphQLEnumType)
        assert list(enum.values) == values.split(), name
    user_error = schema.get_type("UserError")
    assert isinstance(user_error, graphql.GraphQLObjectType)
    assert set(user_error.fields) == {"field", "code", "message"}


@pytest.mark.parametrize("path", sorted(OPERATIONS.glob("*.graphql")), ids=lambda p: p.stem)
def test_operation_file_is_valid(path: Path) -> None:
    document = graphql.parse(path.read_text())
    assert graphql.validate(_schema(), document) == []
    operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    assert len(operations) == 1 and operations[0].name is not None
    assert operations[0].name.value == path.stem, "name each file after its operation"


#: The operations this suite runs end to end (in this order) over HTTP.
SCENARIO = [
    "CreateService",
    "DeclareIncident",
    "UpdateIncident",
    "TransitionIncident",
    "AddNote",
    "PostUpdate",
    "AssignRole",
    "SetRootCause",
    "LinkIncidents",
    "GetIncident",
    "IncidentTimeline",
    "ListIncidents",
    "SetServiceStatus",
    "Services",
]


def test_scenario_covers_the_core_operations() -> None:
    present = {p.stem for p in OPERATIONS.glob("*.graphql")}
    assert set(SCENARIO) <= present


def test_operations_run_against_the_live_service(gql: GraphQLClient, tag: str) -> None:
    state: dict[str, Any] = {}

    def run(name: str, variables: dict[str, Any]) -> Any:
        data = gql(_operation(name), variables)
        (result,) = data.values()
        if isinstance(result, dict) and "userErrors" in result:
            assert result["userErrors"] == [], (name, result)
        return result

    created = run("CreateService", {"input": {"name": f"{tag}-checkout", "description": "Shop"}})
    state["service"] = created["service"]["id"]
    declared = run(
        "DeclareIncident",
        {
            "input": {
                "title": "Checkout returns 502",
                "category": "OUTAGE",
                "impact": "HIGH",
                "urgency": "HIGH",
                "serviceIds": [state["service"]],
                "labels": [tag],
                "idempotencyKey": f"{tag}-declare",
            }
        },
    )["incident"]
    assert declared["priority"] == "P1" and declared["status"] == "TRIGGERED"
    iid = declared["id"]
    other = run("DeclareIncident", {"input": {"title": "Same root", "labels": [tag]}})["incident"]
    updated = run(
        "UpdateIncident",
        {"input": {"id": iid, "expectedVersion": 1, "urgency": "MEDIUM", "labels": [tag, "web"]}},
    )["incident"]
    assert updated["priority"] == "P2" and updated["services"][0]["id"] == state["service"]
    moved = run(
        "TransitionIncident",
        {"input": {"id": iid, "to": "ACKNOWLEDGED", "expectedVersion": updated["version"]}},
    )["incident"]
    assert moved["status"] == "ACKNOWLEDGED" and moved["acknowledgedAt"]
    run("AddNote", {"input": {"id": iid, "body": "Rolled back the gateway"}})
    posted = run(
        "PostUpdate", {"input": {"id": iid, "body": "We are investigating", "visibility": "PUBLIC"}}
    )["incident"]
    assert posted["visibility"] == "PUBLIC"
    roles = run("AssignRole", {"input": {"id": iid, "role": "COMMANDER", "user": "ann"}})
    assert roles["incident"]["roles"][0]["user"] == "ann"
    run("SetRootCause", {"input": {"id": iid, "rootCause": "Expired certificate"}})
    linked = run(
        "LinkIncidents", {"input": {"id": other["id"], "relatedId": iid, "kind": "DUPLICATE_OF"}}
    )
    assert linked["incident"]["links"][0]["incident"]["key"] == declared["key"]
    resolved = run(
        "TransitionIncident",
        {"input": {"id": iid, "to": "RESOLVED", "resolution": "Certificate renewed"}},
    )["incident"]
    assert resolved["resolvedAt"] and resolved["resolution"] == "Certificate renewed"

    full = run("GetIncident", {"key": declared["key"]})
    assert full["id"] == iid and full["rootCause"] == "Expired certificate"
    assert full["roles"][0]["role"] == "COMMANDER" and full["sla"]["acknowledgeDue"]
    timeline = run("IncidentTimeline", {"id": iid, "first": 3})
    assert timeline["timeline"]["pageInfo"]["hasNextPage"] is True
    rest = run(
        "IncidentTimeline", {"id": iid, "after": timeline["timeline"]["pageInfo"]["endCursor"]}
    )
    seqs = [e["node"]["seq"] for e in timeline["timeline"]["edges"] + rest["timeline"]["edges"]]
    assert seqs == list(range(1, timeline["timeline"]["totalCount"] + 1))

    page = run("ListIncidents", {"filter": {"label": tag}, "first": 1})
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"] is True
    second = run(
        "ListIncidents",
        {"filter": {"label": tag}, "first": 1, "after": page["pageInfo"]["endCursor"]},
    )
    assert {page["edges"][0]["node"]["id"], second["edges"][0]["node"]["id"]} == {iid, other["id"]}
    filtered = run(
        "ListIncidents",
        {
            "filter": {
                "label": tag,
                "status": ["RESOLVED"],
                "priority": ["P2"],
                "search": "CHECKOUT",
            },
            "orderBy": "PRIORITY",
        },
    )
    assert [e["node"]["id"] for e in filtered["edges"]] == [iid]

    status = run(
        "SetServiceStatus", {"input": {"id": state["service"], "status": "PARTIAL_OUTAGE"}}
    )["service"]
    assert status["status"] == "PARTIAL_OUTAGE"
    services = run("Services", {})
    assert {"id": state["service"], "status": "PARTIAL_OUTAGE"}.items() <= next(
        s for s in services if s["id"] == state["service"]
    ).items()
