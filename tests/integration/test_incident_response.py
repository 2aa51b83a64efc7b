"""Working an incident over HTTP: the task checklist, links to evidence, backdated notes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.support.api import declare, mutate, timeline
from tests.support.processes import GraphQLClient

TASK = "id title description assignee status dueAt doneAt doneBy order"
PAYLOAD = f"incident {{ id version tasks {{ {TASK} }} }} userErrors {{ field code message }}"
ADD_TASK = f"mutation($input: AddTaskInput!) {{ addTask(input: $input) {{ {PAYLOAD} }} }}"
UPDATE_TASK = f"mutation($input: UpdateTaskInput!) {{ updateTask(input: $input) {{ {PAYLOAD} }} }}"
REORDER = f"mutation($input: ReorderTasksInput!) {{ reorderTasks(input: $input) {{ {PAYLOAD} }} }}"


def add(gql: GraphQLClient, incident_id: str, title: str, **fields: object) -> dict[str, object]:
    payload = mutate(gql, ADD_TASK, incidentId=incident_id, title=title, **fields)
    assert payload["userErrors"] == [], payload
    return payload["incident"]  # type: ignore[no-any-return]


def test_a_checklist_is_worked_through(gql: GraphQLClient) -> None:
    incident = declare(gql, "Ransomware on file servers", tag=f"tasks-{uuid.uuid4().hex[:6]}")
    add(gql, incident["id"], "Isolate affected hosts", assignee="alice")
    add(gql, incident["id"], "Preserve evidence", description="Disk images before wiping")
    after = add(gql, incident["id"], "Notify legal and the DPO", dueAt="2030-01-01T00:00:00Z")
    tasks = after["tasks"]
    assert [(t["title"], t["order"], t["status"]) for t in tasks] == [
        ("Isolate affected hosts", 1, "TODO"),
        ("Preserve evidence", 2, "TODO"),
        ("Notify legal and the DPO", 3, "TODO"),
    ]
    assert all(t["id"].startswith(f"{incident['id']}:") for t in tasks)

    done = mutate(gql, UPDATE_TASK, id=tasks[0]["id"], status="DONE")
    assert done["userErrors"] == []
    first = done["incident"]["tasks"][0]
    assert first["status"] == "DONE" and first["doneBy"] and first["doneAt"]

    order = [tasks[2]["id"], tasks[0]["id"], tasks[1]["id"]]
    reordered = mutate(
        gql, REORDER, incidentId=incident["id"], taskIds=order,
        expectedVersion=done["incident"]["version"],
    )  # fmt: skip
    assert [t["id"] for t in reordered["incident"]["tasks"]] == order

    types = [e["type"] for e in timeline(gql, incident["id"])]
    assert types.count("TASK_ADDED") == 3
    assert "TASK_COMPLETED" in types and "TASKS_REORDERED" in types


def test_tasks_are_never_public(gql: GraphQLClient) -> None:
    # The public types have no way to name a task: a status page cannot ask for one.
    for public in ("PublicIncident", "StatusPage"):
        fields = gql(f'{{ __type(name: "{public}") {{ fields {{ name }} }} }}')["__type"]["fields"]
        assert "tasks" not in {f["name"] for f in fields}


def test_bad_task_input_names_the_field_and_writes_nothing(gql: GraphQLClient) -> None:
    incident = declare(gql, "Checklist validation")
    version = add(gql, incident["id"], "Only task")["version"]
    cases = [
        (ADD_TASK, {"incidentId": incident["id"], "title": " "}, ["input", "title"]),
        (ADD_TASK, {"incidentId": "nope", "title": "x"}, ["input", "incidentId"]),
        (UPDATE_TASK, {"id": "not-a-task"}, ["input", "id"]),
        (UPDATE_TASK, {"id": f"{incident['id']}:{'0' * 24}", "status": "DONE"}, ["input", "id"]),
        (REORDER, {"incidentId": incident["id"], "taskIds": []}, ["input", "taskIds"]),
    ]
    for document, fields, field in cases:
        payload = mutate(gql, document, **fields)
        assert payload["incident"] is None, payload
        [error] = payload["userErrors"]
        assert error["field"] == field, (fields, error)
    again = mutate(gql, REORDER, incidentId=incident["id"], taskIds=[], expectedVersion=version)
    assert again["userErrors"][0]["code"] == "VALIDATION"
    # Nothing was written by any refused call.
    final = add(gql, incident["id"], "Second task")
    assert final["version"] == version + 1


LINK_PAYLOAD = (
    "incident { id version externalLinks { id url title kind addedAt addedBy } } "
    "userErrors { field code message }"
)
ADD_LINK = f"mutation($input: AddLinkInput!) {{ addLink(input: $input) {{ {LINK_PAYLOAD} }} }}"
REMOVE_LINK = (
    f"mutation($input: RemoveLinkInput!) {{ removeLink(input: $input) {{ {LINK_PAYLOAD} }} }}"
)
ADD_NOTE = (
    "mutation($input: AddNoteInput!) { addNote(input: $input) "
    "{ incident { id } userErrors { field code message } } }"
)


def test_evidence_is_linked_and_unlinked(gql: GraphQLClient) -> None:
    incident = declare(gql, "Data exfiltration suspected")
    added = mutate(
        gql, ADD_LINK, incidentId=incident["id"], kind="EVIDENCE", title="Disk images",
        url="https://vault.example.com/cases/412",
    )  # fmt: skip
    assert added["userErrors"] == []
    [link] = added["incident"]["externalLinks"]
    assert (link["kind"], link["title"]) == ("EVIDENCE", "Disk images")
    removed = mutate(gql, REMOVE_LINK, id=link["id"])
    assert removed["userErrors"] == [] and removed["incident"]["externalLinks"] == []
    types = [e["type"] for e in timeline(gql, incident["id"])]
    assert "LINK_ADDED" in types and "LINK_REMOVED" in types


def test_dangerous_urls_are_refused_and_nothing_is_written(gql: GraphQLClient) -> None:
    incident = declare(gql, "Link validation")
    for url in ("javascript:alert(document.cookie)", "file:///etc/passwd", "not a url"):
        payload = mutate(gql, ADD_LINK, incidentId=incident["id"], url=url)
        assert payload["incident"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", "url"], "VALIDATION")
        ]
    assert [e["type"] for e in timeline(gql, incident["id"])] == ["DECLARED"]


def test_a_note_written_after_the_fact_shows_when_it_happened(gql: GraphQLClient) -> None:
    incident = declare(gql, "Backdated note")
    declared_at = datetime.fromisoformat(incident["declaredAt"])
    earlier = (declared_at - timedelta(minutes=90)).isoformat()
    payload = mutate(gql, ADD_NOTE, id=incident["id"], body="Alarm first seen", occurredAt=earlier)
    assert payload["userErrors"] == []
    events = gql(
        "query($id: ID!) { incident(id: $id) "
        "{ timeline { edges { node { type at occurredAt } } } } }",
        {"id": incident["id"]},
    )["incident"]["timeline"]["edges"]
    note = events[-1]["node"]
    assert note["type"] == "NOTE_ADDED"
    assert datetime.fromisoformat(note["occurredAt"]) == datetime.fromisoformat(earlier)
    assert datetime.fromisoformat(note["at"]) > datetime.fromisoformat(note["occurredAt"])
    declared_event = events[0]["node"]
    assert declared_event["occurredAt"] == declared_event["at"]

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    refused = mutate(gql, ADD_NOTE, id=incident["id"], body="From the future", occurredAt=future)
    assert [e["field"] for e in refused["userErrors"]] == [["input", "occurredAt"]]
