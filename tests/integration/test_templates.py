"""Playbook templates: the built-in playbooks, declaring from one, editing, restoring."""

from __future__ import annotations

import os
import subprocess
import uuid
from typing import Any

from tests.support.api import create_service, mutate
from tests.support.processes import SERVICE_BIN, GraphQLClient, ServiceProcess

TEMPLATE_FIELDS = (
    "id name category impact labels builtin archived version tasks { title } roles "
    "restricted services { id }"
)
TEMPLATES = (
    f"query($all: Boolean!) {{ incidentTemplates(includeArchived: $all) {{ {TEMPLATE_FIELDS} }} }}"
)
DECLARE = """mutation($input: DeclareIncidentInput!) { declareIncident(input: $input) {
  incident { id key category impact urgency labels version
    template { name } tasks { title status order }
    externalLinks { kind url title } services { id } }
  userErrors { field code message } } }"""
PAYLOAD = f"template {{ {TEMPLATE_FIELDS} }} userErrors {{ field code message }}"
CREATE = f"""mutation($input: IncidentTemplateInput!) {{
  createIncidentTemplate(input: $input) {{ {PAYLOAD} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: IncidentTemplateInput!, $v: Int) {{
  updateIncidentTemplate(id: $id, input: $input, expectedVersion: $v) {{ {PAYLOAD} }} }}"""
ARCHIVE = f"""mutation($id: ID!) {{ archiveIncidentTemplate(id: $id) {{ {PAYLOAD} }} }}"""
BUILTIN_NAMES = {
    "E-commerce outage",
    "Ransomware / data compromise",
    "Network failure for remote staff",
    "Critical application bug",
    "Natural disaster / disaster recovery",
}


def call(gql: GraphQLClient, document: str, **variables: object) -> Any:
    """A mutation whose arguments are not one `input`; its payload."""
    (payload,) = gql(document, variables).values()
    return payload


def templates(gql: GraphQLClient, include_archived: bool = False) -> list[dict[str, object]]:
    return gql(TEMPLATES, {"all": include_archived})["incidentTemplates"]  # type: ignore[no-any-return]


def by_name(gql: GraphQLClient, name: str) -> dict[str, object]:
    [found] = [t for t in templates(gql, True) if t["name"] == name]
    return found


def test_declaring_from_the_ransomware_playbook(gql: GraphQLClient) -> None:
    template = by_name(gql, "Ransomware / data compromise")
    assert template["builtin"] is True and template["restricted"] is True
    payload = mutate(
        gql, DECLARE, title="File servers encrypted", templateId=template["id"], labels=["finance"]
    )
    assert payload["userErrors"] == []
    incident = payload["incident"]
    assert (incident["category"], incident["impact"], incident["urgency"]) == (
        "SECURITY", "HIGH", "HIGH",
    )  # fmt: skip
    assert incident["labels"][0] == "finance" and "playbook:ransomware" in incident["labels"]
    assert incident["template"] == {"name": "Ransomware / data compromise"}
    titles = [t["title"] for t in incident["tasks"]]
    assert titles == [t["title"] for t in template["tasks"]]  # type: ignore[union-attr]
    assert {t["status"] for t in incident["tasks"]} == {"TODO"}


def test_a_template_of_our_own_brings_its_runbook_and_services(gql: GraphQLClient) -> None:
    service_id = create_service(gql, f"payments-{uuid.uuid4().hex[:6]}")
    created = mutate(
        gql, CREATE,
        name=f"Payments down {uuid.uuid4().hex[:6]}", category="OUTAGE", impact="HIGH",
        serviceIds=[service_id], runbookUrl="https://wiki.example.com/runbooks/payments",
        tasks=[{"title": "Page the payments team"}], roles=["COMMANDER"],
    )  # fmt: skip
    assert created["userErrors"] == []
    template = created["template"]
    assert template["services"] == [{"id": service_id}]
    incident = mutate(
        gql, DECLARE, title="Card payments failing", templateId=template["id"], impact="LOW"
    )["incident"]
    assert incident["impact"] == "LOW" and incident["category"] == "OUTAGE"
    assert [s["id"] for s in incident["services"]] == [service_id]
    assert incident["externalLinks"] == [
        {
            "kind": "RUNBOOK",
            "url": "https://wiki.example.com/runbooks/payments",
            "title": f"Runbook: {template['name']}",
        }
    ]

    archived = call(gql, ARCHIVE, id=template["id"])["template"]
    assert archived["archived"] is True
    assert template["name"] not in {t["name"] for t in templates(gql)}
    refused = mutate(gql, DECLARE, title="Again", templateId=template["id"])
    assert [e["field"] for e in refused["userErrors"]] == [["input", "templateId"]]


def test_bad_templates_are_refused_and_nothing_is_written(gql: GraphQLClient) -> None:
    before = len(templates(gql, True))
    for fields, field in (
        ({"name": "x", "serviceIds": ["0" * 24]}, ["input", "serviceIds"]),
        ({"name": "x", "runbookUrl": "file:///etc/passwd"}, ["input", "runbookUrl"]),
        ({"name": " "}, ["input", "name"]),
    ):
        payload = mutate(gql, CREATE, **fields)
        assert payload["template"] is None
        assert [e["field"] for e in payload["userErrors"]] == [field], payload
    assert len(templates(gql, True)) == before
    unknown = mutate(gql, DECLARE, title="x", templateId="0" * 24)
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [
        (["input", "templateId"], "NOT_FOUND")
    ]


def test_builtins_load_once_edits_survive_restarts_and_restore_puts_them_back(
    own_service: ServiceProcess,
) -> None:
    gql = GraphQLClient(own_service.url)
    assert {t["name"] for t in templates(gql, True)} == BUILTIN_NAMES
    outage = by_name(gql, "E-commerce outage")
    edited = call(
        gql, UPDATE, id=outage["id"], v=outage["version"],
        input={"name": "E-commerce outage", "category": "OUTAGE", "tasks": [{"title": "Ours"}]},
    )  # fmt: skip
    assert edited["userErrors"] == []
    stale = call(gql, UPDATE, id=outage["id"], v=outage["version"], input={"name": "x"})
    assert [e["code"] for e in stale["userErrors"]] == ["CONFLICT"]

    own_service.stop()
    own_service.start()
    after = templates(gql, True)
    assert len(after) == 5  # loaded once, not again
    assert [t["title"] for t in by_name(gql, "E-commerce outage")["tasks"]] == ["Ours"]  # type: ignore[union-attr]

    env = {k: own_service.env[k] for k in ("MONGODB_URI", "MONGODB_DATABASE")}
    done = subprocess.run(
        [SERVICE_BIN, "templates", "restore"], env={**os.environ, **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "restored: E-commerce outage" in done.stderr
    restored = by_name(gql, "E-commerce outage")
    assert len(restored["tasks"]) > 1 and restored["tasks"][0]["title"] != "Ours"  # type: ignore[index,arg-type]
