"""The post-incident review over the wire: the closing policy, postmortems and action items
after CLOSED, bad input writing nothing, the cross-incident list, the Markdown document."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo import MongoClient

from tests.support.api import (
    TRANSITION,
    create_key,
    declare,
    get,
    listen,
    mutate,
    ok,
    publish_postmortem,
    timeline,
)
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess
from tests.support.websocket import WsClient

PM_FIELDS = """incidentId status summary customerImpact rootCause trigger detection resolution
  contributingFactors whatWentWell whatWentWrong lessons timelineSeqs author reviewers public
  publishedAt publishedBy version timeline { seq type }"""
PM_PAYLOAD = f"postmortem {{ {PM_FIELDS} }} userErrors {{ field code message }}"
UPSERT = f"""mutation($input: UpsertPostmortemInput!) {{
  upsertPostmortem(input: $input) {{ {PM_PAYLOAD} }} }}"""
SUBMIT = f"""mutation($input: SubmitPostmortemInput!) {{
  submitPostmortemForReview(input: $input) {{ {PM_PAYLOAD} }} }}"""
PUBLISH = f"""mutation($input: PublishPostmortemInput!) {{
  publishPostmortem(input: $input) {{ {PM_PAYLOAD} }} }}"""
ITEM_FIELDS = "id incidentId title owner dueAt priority status url version overdue completedAt"
ITEM_PAYLOAD = f"actionItem {{ {ITEM_FIELDS} }} userErrors {{ field code message }}"
ADD_ITEM = f"""mutation($input: AddActionItemInput!) {{
  addActionItem(input: $input) {{ {ITEM_PAYLOAD} }} }}"""
UPDATE_ITEM = f"""mutation($input: UpdateActionItemInput!) {{
  updateActionItem(input: $input) {{ {ITEM_PAYLOAD} }} }}"""
ITEMS = f"""query($filter: ActionItemFilter, $first: Int, $after: String) {{
  actionItems(filter: $filter, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {ITEM_FIELDS} }} }} }} }}"""
REVIEW = f"""query($id: ID!) {{ incident(id: $id) {{
  version status updatedAt postmortem {{ {PM_FIELDS} }} actionItems {{ {ITEM_FIELDS} }}
  postmortemMarkdown }} }}"""
MISSING_ID = "0123456789abcdef01234567"


def resolved_p1(gql: GraphQLClient, title: str = "Payments down") -> Any:
    incident = declare(gql, title, impact="HIGH", urgency="HIGH")
    ok(gql, TRANSITION, id=incident["id"], to="RESOLVED", resolution="Rolled back")
    ok(
        gql,
        "mutation($input: SetRootCauseInput!) { setRootCause(input: $input) "
        "{ incident { id } userErrors { code } } }",
        id=incident["id"],
        rootCause="Bad deploy",
    )
    return get(gql, incident["id"])


def review(gql: GraphQLClient, incident_id: str) -> Any:
    return gql(REVIEW, {"id": incident_id})["incident"]


def test_a_p1_cannot_close_before_its_postmortem_is_published(gql: GraphQLClient) -> None:
    incident = resolved_p1(gql)
    refused = mutate(gql, TRANSITION, id=incident["id"], to="CLOSED")
    assert refused["incident"] is None
    (error,) = refused["userErrors"]
    assert (error["code"], error["field"]) == ("POSTMORTEM_REQUIRED", ["input", "to"])
    assert get(gql, incident["id"]) == incident
    draft = ok(gql, UPSERT, incidentId=incident["id"], expectedVersion=0, summary="S")
    assert draft["status"] == "DRAFT" and draft["rootCause"] == "Bad deploy"
    assert mutate(gql, TRANSITION, id=incident["id"], to="CLOSED")["userErrors"][0]["code"] == (
        "POSTMORTEM_REQUIRED"
    )
    ok(gql, SUBMIT, incidentId=incident["id"])
    published = ok(gql, PUBLISH, incidentId=incident["id"])
    assert (published["status"], published["public"], published["version"]) == (
        "PUBLISHED",
        False,
        3,
    )
    closed = ok(gql, TRANSITION, id=incident["id"], to="CLOSED")
    assert closed["status"] == "CLOSED" and closed["version"] == incident["version"] + 1


def test_the_review_goes_on_after_closed_without_changing_the_incident(
    gql: GraphQLClient,
) -> None:
    incident = resolved_p1(gql)
    publish_postmortem(gql, incident["id"])
    closed = ok(gql, TRANSITION, id=incident["id"], to="CLOSED")
    edited = ok(
        gql,
        UPSERT,
        incidentId=incident["id"],
        expectedVersion=3,
        lessons="Canary first",
        contributingFactors=["No canary"],
        reviewers=["bob"],
    )
    assert (edited["status"], edited["version"], edited["lessons"]) == (
        "PUBLISHED",
        4,
        "Canary first",
    )
    item = ok(gql, ADD_ITEM, incidentId=incident["id"], title="Add a canary", owner="dana")
    ok(gql, UPDATE_ITEM, id=item["id"], expectedVersion=1, status="DONE")
    after = review(gql, incident["id"])
    assert (after["version"], after["status"], after["updatedAt"]) == (
        closed["version"],
        "CLOSED",
        closed["updatedAt"],
    )
    assert [i["status"] for i in after["actionItems"]] == ["DONE"]
    events = timeline(gql, incident["id"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events[-7:]] == [
        "POSTMORTEM_UPDATED",
        "POSTMORTEM_SUBMITTED",
        "POSTMORTEM_PUBLISHED",
        "STATUS_CHANGED",
        "POSTMORTEM_UPDATED",
        "ACTION_ITEM_ADDED",
        "ACTION_ITEM_COMPLETED",
    ]
    assert {e["visibility"] for e in events[-7:]} == {"INTERNAL"}
    # The default timeline: the key milestones, not the review's own events.
    assert {e["type"] for e in after["postmortem"]["timeline"]} <= {
        "DECLARED",
        "STATUS_CHANGED",
        "RESOLUTION_SET",
        "ROOT_CAUSE_SET",
    }
    picked = ok(gql, UPSERT, incidentId=incident["id"], expectedVersion=4, timelineSeqs=[1])
    assert [e["seq"] for e in picked["timeline"]] == [1]


def test_bad_input_is_a_user_error_naming_the_field_and_writes_nothing(
    gql: GraphQLClient,
) -> None:
    incident = resolved_p1(gql)
    seqs = len(timeline(gql, incident["id"]))
    cases: list[tuple[str, dict[str, Any], str, list[str]]] = [
        (
            ADD_ITEM,
            {"incidentId": MISSING_ID, "title": "t", "owner": "o"},
            "NOT_FOUND",
            ["input", "incidentId"],
        ),
        (
            ADD_ITEM,
            {"incidentId": "nope", "title": "t", "owner": "o"},
            "VALIDATION",
            ["input", "incidentId"],
        ),
        (
            ADD_ITEM,
            {"incidentId": incident["id"], "title": " ", "owner": "o"},
            "VALIDATION",
            ["input", "title"],
        ),
        (
            ADD_ITEM,
            {"incidentId": incident["id"], "title": "t", "owner": "o", "url": "ftp://x"},
            "VALIDATION",
            ["input", "url"],
        ),
        (UPDATE_ITEM, {"id": MISSING_ID, "expectedVersion": 1}, "NOT_FOUND", ["input", "id"]),
        (
            UPSERT,
            {"incidentId": MISSING_ID, "expectedVersion": 0},
            "NOT_FOUND",
            ["input", "incidentId"],
        ),
        (
            UPSERT,
            {"incidentId": incident["id"], "expectedVersion": 3, "summary": "s"},
            "CONFLICT",
            ["input", "expectedVersion"],
        ),
        (
            UPSERT,
            {"incidentId": incident["id"], "expectedVersion": 0, "timelineSeqs": [999]},
            "VALIDATION",
            ["input", "timelineSeqs"],
        ),
        (SUBMIT, {"incidentId": incident["id"]}, "NOT_FOUND", ["input", "incidentId"]),
        (PUBLISH, {"incidentId": incident["id"]}, "NOT_FOUND", ["input", "incidentId"]),
    ]
    for document, input, code, field in cases:
        payload = mutate(gql, document, **input)
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)], input
    assert review(gql, incident["id"])["postmortem"] is None
    ok(gql, UPSERT, incidentId=incident["id"], expectedVersion=0, lessons="L")
    ok(gql, SUBMIT, incidentId=incident["id"])
    stale = mutate(gql, UPSERT, incidentId=incident["id"], expectedVersion=1, summary="late")
    assert stale["userErrors"][0]["code"] == "CONFLICT"
    unsummarised = mutate(gql, PUBLISH, incidentId=incident["id"], public=True)
    (error,) = unsummarised["userErrors"]
    assert (error["code"], error["field"]) == ("VALIDATION", ["postmortem", "summary"])
    item = ok(gql, ADD_ITEM, incidentId=incident["id"], title="t", owner="o")
    stale_item = mutate(gql, UPDATE_ITEM, id=item["id"], expectedVersion=5, owner="x")
    assert stale_item["userErrors"][0]["code"] == "CONFLICT"
    after = review(gql, incident["id"])
    assert (after["postmortem"]["status"], after["postmortem"]["version"]) == ("IN_REVIEW", 2)
    assert after["postmortem"]["summary"] is None
    assert [i["owner"] for i in after["actionItems"]] == ["o"]
    # upsert, submit, add: three events, nothing from the refused writes.
    assert len(timeline(gql, incident["id"])) == seqs + 3


def test_the_action_item_list_filters_and_pages(gql: GraphQLClient) -> None:
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    a, b = declare(gql, "review a"), declare(gql, "review b")
    now = datetime.now(UTC)
    late = ok(
        gql,
        ADD_ITEM,
        incidentId=a["id"],
        title="late",
        owner=owner,
        dueAt=(now - timedelta(days=1)).isoformat(),
    )
    soon = ok(
        gql,
        ADD_ITEM,
        incidentId=b["id"],
        title="soon",
        owner=owner,
        dueAt=(now + timedelta(days=1)).isoformat(),
        priority="P1",
    )
    undated = ok(gql, ADD_ITEM, incidentId=a["id"], title="undated", owner=owner)
    done = ok(
        gql,
        ADD_ITEM,
        incidentId=b["id"],
        title="done",
        owner=owner,
        dueAt=(now - timedelta(days=2)).isoformat(),
    )
    ok(gql, UPDATE_ITEM, id=done["id"], expectedVersion=1, status="WONT_DO")
    assert late["overdue"] and not soon["overdue"]

    def titles(first: int = 100, **filter: Any) -> list[str]:
        page = gql(ITEMS, {"filter": {"owner": owner, **filter}, "first": first})["actionItems"]
        return [e["node"]["title"] for e in page["edges"]]

    assert titles() == ["done", "late", "soon", "undated"]
    assert titles(overdue=True) == ["late"]
    assert titles(overdue=False) == ["done", "soon", "undated"]
    assert titles(status=["OPEN"], incidentId=a["id"]) == ["late", "undated"]
    assert titles(status=["WONT_DO"]) == ["done"]
    seen, after = [], None
    while True:
        page = gql(ITEMS, {"filter": {"owner": owner}, "first": 3, "after": after})["actionItems"]
        assert page["totalCount"] == 4
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [done["id"], late["id"], soon["id"], undated["id"]]


def test_the_markdown_document_needs_a_viewer(service: ServiceProcess, gql: GraphQLClient) -> None:
    incident = resolved_p1(gql, "Markdown story")
    publish_postmortem(gql, incident["id"])
    viewer, _ = create_key(gql, f"pm-viewer-{uuid.uuid4().hex[:6]}", "VIEWER")
    path = f"/incidents/{incident['key'].lower()}/postmortem.md"
    with httpx.Client(base_url=service.url, timeout=30) as http:
        anonymous = http.get(path)
        bad = http.get(path, headers={"Authorization": "Bearer isk_nope"})
        allowed = http.get(path, headers={"Authorization": f"Bearer {viewer}"})
        missing = http.get(
            "/incidents/INC-999999999/postmortem.md", headers={"Authorization": f"Bearer {viewer}"}
        )
    assert anonymous.status_code == bad.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert allowed.status_code == 200
    assert allowed.headers["content-type"] == "text/markdown; charset=utf-8"
    assert allowed.text.startswith(f"# Postmortem: {incident['key']} — Markdown story\n")
    assert "What happened" in allowed.text
    assert allowed.text == review(gql, incident["id"])["postmortemMarkdown"]
    assert missing.status_code == 404


def test_review_events_reach_incident_event_subscribers(
    service: ServiceProcess, gql: GraphQLClient
) -> None:
    incident = resolved_p1(gql, "Live review")
    seen = len(timeline(gql, incident["id"]))
    with WsClient(service.ws_url) as conn:
        conn.init(ADMIN_KEY)
        conn.subscribe(
            "1",
            "subscription($id: ID!, $after: Int) {"
            " incidentEvents(incidentId: $id, afterSeq: $after) { seq type visibility } }",
            {"id": incident["id"], "after": seen},
        )
        ok(gql, UPSERT, incidentId=incident["id"], expectedVersion=0, summary="S")
        event = conn.next_data("1")["incidentEvents"]
    assert event["type"] == "POSTMORTEM_UPDATED" and event["visibility"] == "INTERNAL"


def test_publishing_writes_the_postmortem_published_message(
    mongo_uri: str, service: ServiceProcess, gql: GraphQLClient
) -> None:
    listen(gql)
    incident = resolved_p1(gql, "Webhook story")
    publish_postmortem(gql, incident["id"], public=True)
    client: MongoClient[Any] = MongoClient(mongo_uri)
    try:
        db = client[service.env["MONGODB_DATABASE"]]
        (message,) = list(
            db.outbox.find({"type": "postmortem.published", "data.incident.id": incident["id"]})
        )
    finally:
        client.close()
    assert message["data"]["postmortem"]["summary"] == "What happened"
    assert message["data"]["postmortem"]["rootCause"] == "Bad deploy"
    # An internal incident: nothing for the public, even with a public postmortem.
    assert message["public"] is None
