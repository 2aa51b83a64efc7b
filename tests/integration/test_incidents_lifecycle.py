"""Each incident query and mutation over HTTP, from declaration to closure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.api import (
    ADD_NOTE,
    ASSIGN_ROLE,
    LINK,
    POST_UPDATE,
    SET_ROOT_CAUSE,
    TRANSITION,
    UNASSIGN_ROLE,
    UPDATE,
    create_service,
    declare,
    get,
    mutate,
    ok,
    publish_postmortem,
    timeline,
)
from tests.support.processes import GraphQLClient


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_declare_sets_defaults_and_derives_priority(gql: GraphQLClient, tag: str) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    started = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    incident = declare(
        gql,
        "  Payments failing  ",
        tag=tag,
        description="Card payments return 502",
        category="OUTAGE",
        impact="HIGH",
        urgency="MEDIUM",
        labels=["payments"],
        impactStartedAt=started.isoformat(),
    )
    assert incident["title"] == "Payments failing"
    assert incident["status"] == "TRIGGERED" and incident["publicStatus"] == "INVESTIGATING"
    assert incident["priority"] == "P2" and incident["category"] == "OUTAGE"
    assert incident["labels"] == [tag, "payments"]
    assert incident["version"] == 1 and incident["visibility"] == "INTERNAL"
    assert incident["declaredBy"] == "key:admin"
    assert _iso(incident["impactStartedAt"]) == started
    assert _iso(incident["declaredAt"]) >= before
    assert incident["detectedAt"] == incident["declaredAt"] == incident["updatedAt"]
    for name in ("acknowledgedAt", "identifiedAt", "mitigatedAt", "resolvedAt", "closedAt"):
        assert incident[name] is None
    minimal = declare(gql, "x", tag=tag)
    assert (minimal["category"], minimal["impact"], minimal["urgency"]) == (
        "OTHER",
        "MEDIUM",
        "MEDIUM",
    )
    assert minimal["priority"] == "P3"
    assert int(minimal["key"][4:]) > int(incident["key"][4:])


def test_read_by_id_and_by_key(gql: GraphQLClient, tag: str) -> None:
    incident = declare(gql, tag=tag)
    by_id = get(gql, incident["id"])
    by_key = gql("query($k: String){ incident(key: $k) { id } }", {"k": incident["key"].lower()})
    assert by_id == incident
    assert by_key["incident"]["id"] == incident["id"]
    missing = gql('query { incident(key: "INC-999999999") { id } }')
    assert missing == {"incident": None}
    unknown = gql('query { incident(id: "0123456789abcdef01234567") { id } }')
    assert unknown == {"incident": None}


def test_full_lifecycle_to_closed(gql: GraphQLClient, tag: str) -> None:
    incident = declare(gql, tag=tag, impact="HIGH", urgency="HIGH")
    steps = [
        ("ACKNOWLEDGED", "acknowledgedAt", "INVESTIGATING"),
        ("INVESTIGATING", None, "INVESTIGATING"),
        ("IDENTIFIED", "identifiedAt", "IDENTIFIED"),
        ("MONITORING", "mitigatedAt", "MONITORING"),
        ("RESOLVED", "resolvedAt", "RESOLVED"),
        ("CLOSED", "closedAt", "RESOLVED"),
    ]
    version = incident["version"]
    for to, stamp, public in steps:
        extra = {"resolution": "Rolled back release 42"} if to == "RESOLVED" else {}
        if to == "CLOSED":
            # A P1 closes only once its postmortem is published (REQUIRE_POSTMORTEM_FOR);
            # the review records its own events and leaves the incident's version alone.
            publish_postmortem(gql, incident["id"])
        incident = ok(
            gql,
            TRANSITION,
            id=incident["id"],
            to=to,
            note=f"now {to}",
            expectedVersion=version,
            **extra,
        )
        assert incident["status"] == to and incident["publicStatus"] == public
        assert incident["version"] == version + 1
        version = incident["version"]
        if stamp:
            assert incident[stamp] == incident["updatedAt"]
    assert incident["resolution"] == "Rolled back release 42"
    events = timeline(gql, incident["id"])
    assert [e["type"] for e in events] == [
        "DECLARED",
        *["STATUS_CHANGED"] * 5,
        "RESOLUTION_SET",
        "POSTMORTEM_UPDATED",
        "POSTMORTEM_SUBMITTED",
        "POSTMORTEM_PUBLISHED",
        "STATUS_CHANGED",
    ]
    assert next(e["message"] for e in events if e["type"] == "STATUS_CHANGED") == "now ACKNOWLEDGED"
    assert events[-1]["data"] == {"from": "RESOLVED", "to": "CLOSED"}
    assert get(gql, incident["id"]) == incident


def test_self_clearing_alert_and_reopen(gql: GraphQLClient, tag: str) -> None:
    incident = declare(gql, tag=tag)
    resolved = ok(gql, TRANSITION, id=incident["id"], to="RESOLVED")
    assert resolved["acknowledgedAt"] is None and resolved["resolvedAt"] is not None
    reopened = ok(gql, TRANSITION, id=incident["id"], to="INVESTIGATING", note="it is back")
    assert reopened["status"] == "INVESTIGATING"
    assert reopened["resolvedAt"] is None and reopened["acknowledgedAt"] is not None


def test_update_changes_fields_and_priority(gql: GraphQLClient, tag: str) -> None:
    incident = declare(gql, tag=tag, impact="LOW", urgency="LOW")
    assert incident["priority"] == "P5"
    db = create_service(gql, f"{tag}-db")
    updated = ok(
        gql,
        UPDATE,
        id=incident["id"],
        expectedVersion=1,
        title="Database failover",
        description="Primary lost",
        category="HARDWARE",
        impact="HIGH",
        urgency="HIGH",
        serviceIds=[db],
        labels=[tag, "db"],
    )
    assert updated["priority"] == "P1" and updated["version"] == 2
    assert updated["title"] == "Database failover" and updated["category"] == "HARDWARE"
    assert [s["id"] for s in updated["services"]] == [db]
    assert updated["services"][0]["status"] == "OPERATIONAL"
    events = timeline(gql, incident["id"])
    assert [e["type"] for e in events] == ["DECLARED", "UPDATED", "PRIORITY_CHANGED"]
    assert events[2]["data"] == {"from": "P5", "to": "P1"}
    # A no-op update writes nothing and keeps the version.
    same = ok(gql, UPDATE, id=incident["id"], title="Database failover")
    assert same["version"] == 2 and len(timeline(gql, incident["id"])) == 3


def test_notes_updates_roles_root_cause(gql: GraphQLClient, tag: str) -> None:
    incident = declare(gql, tag=tag)
    iid = incident["id"]
    ok(gql, ADD_NOTE, id=iid, body="Checked the load balancer")
    published = ok(gql, POST_UPDATE, id=iid, body="We are investigating", visibility="PUBLIC")
    assert published["visibility"] == "PUBLIC"
    ok(gql, POST_UPDATE, id=iid, body="Internal heads-up")
    ok(gql, ASSIGN_ROLE, id=iid, role="COMMANDER", user="ann")
    ok(gql, ASSIGN_ROLE, id=iid, role="COMMANDER", user="bob")
    ok(gql, ASSIGN_ROLE, id=iid, role="RESPONDER", user="cy")
    ok(gql, ASSIGN_ROLE, id=iid, role="RESPONDER", user="di")
    after = ok(gql, UNASSIGN_ROLE, id=iid, role="RESPONDER", user="cy")
    assert [(r["role"], r["user"]) for r in after["roles"]] == [
        ("COMMANDER", "bob"),
        ("RESPONDER", "di"),
    ]
    rc = ok(gql, SET_ROOT_CAUSE, id=iid, rootCause="Expired TLS certificate")
    assert rc["rootCause"] == "Expired TLS certificate"
    events = timeline(gql, iid)
    assert [e["type"] for e in events] == [
        "DECLARED",
        "NOTE_ADDED",
        "PUBLISHED",
        "UPDATE_POSTED",
        "UPDATE_POSTED",
        "ROLE_ASSIGNED",
        "ROLE_ASSIGNED",
        "ROLE_ASSIGNED",
        "ROLE_ASSIGNED",
        "ROLE_UNASSIGNED",
        "ROOT_CAUSE_SET",
    ]
    assert [e["visibility"] for e in events if e["type"] == "UPDATE_POSTED"] == [
        "PUBLIC",
        "INTERNAL",
    ]
    assert events[1]["message"] == "Checked the load balancer"
    assert events[1]["actor"] == "key:admin"
    assert rc["version"] == 10  # one version per command, however many events


def test_link_related_and_duplicate(gql: GraphQLClient, tag: str) -> None:
    a, b, c = (declare(gql, f"incident {n}", tag=tag) for n in "abc")
    linked = ok(gql, LINK, id=a["id"], relatedId=b["id"], kind="DUPLICATE_OF")
    linked = ok(gql, LINK, id=a["id"], relatedId=c["id"])
    assert [(x["kind"], x["incident"]["key"]) for x in linked["links"]] == [
        ("DUPLICATE_OF", b["key"]),
        ("RELATED", c["key"]),
    ]
    second_dup = mutate(gql, LINK, id=a["id"], relatedId=c["id"], kind="DUPLICATE_OF")
    assert [e["code"] for e in second_dup["userErrors"]] == ["VALIDATION"]
    itself = mutate(gql, LINK, id=a["id"], relatedId=a["id"])
    assert [e["field"] for e in itself["userErrors"]] == [["input", "relatedId"]]
    missing = mutate(gql, LINK, id=a["id"], relatedId="0123456789abcdef01234567")
    assert [e["code"] for e in missing["userErrors"]] == ["NOT_FOUND"]
    assert get(gql, a["id"])["version"] == 3


def test_timeline_seq_is_one_to_n(gql: GraphQLClient, tag: str) -> None:
    incident = declare(gql, tag=tag)
    for n in range(20):
        ok(gql, ADD_NOTE, id=incident["id"], body=f"note {n}")
    ok(gql, TRANSITION, id=incident["id"], to="RESOLVED", resolution="fixed")
    events = timeline(gql, incident["id"])
    assert [e["seq"] for e in events] == list(range(1, 24))
    assert {e["incidentId"] for e in events} == {incident["id"]}
    assert [e["id"] for e in events] == [f"{incident['id']}:{n}" for n in range(1, 24)]
    data = gql(
        'query($id: ID!){ incident(id: $id){ timeline(first: 5, after: "20") '
        "{ totalCount edges { node { seq } } pageInfo { hasNextPage } } } }",
        {"id": incident["id"]},
    )["incident"]["timeline"]
    assert data["totalCount"] == 23
    assert [e["node"]["seq"] for e in data["edges"]] == [21, 22, 23]
    assert data["pageInfo"]["hasNextPage"] is False


def test_sla_on_the_incident(gql: GraphQLClient, tag: str) -> None:
    incident = declare(gql, tag=tag, impact="HIGH", urgency="HIGH")
    sla = gql(
        "query($id: ID!){ incident(id: $id){ declaredAt sla { acknowledgeDue resolveDue "
        "acknowledgeBreached resolveBreached } } }",
        {"id": incident["id"]},
    )["incident"]
    declared_at = _iso(sla["declaredAt"])
    assert _iso(sla["sla"]["acknowledgeDue"]) == declared_at + timedelta(minutes=5)
    assert _iso(sla["sla"]["resolveDue"]) == declared_at + timedelta(hours=4)
    assert sla["sla"]["resolveBreached"] is False


def test_a_changed_impact_start_reads_back_on_the_timeline_as_text(
    gql: GraphQLClient, tag: str
) -> None:
    """Found by the fuzzer: a date in event data used to fail the whole response (500)."""
    incident = declare(gql, tag=tag)
    started = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    ok(gql, UPDATE, id=incident["id"], impactStartedAt=started.isoformat())
    events = timeline(gql, incident["id"])
    (updated,) = [e for e in events if e["type"] == "UPDATED"]
    assert updated["data"]["fields"]["impactStartedAt"] == started.isoformat().replace(
        "+00:00", "Z"
    )
