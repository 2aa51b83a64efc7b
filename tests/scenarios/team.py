"""A response team as the scenarios play it: people with their own API keys, and a
customer watching the public status page over a websocket.

Each person acts with their own RESPONDER key, so the timeline names who did
what (`key:<name>`), as it would for a real team."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.api import create_key, create_service, mutate
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import TRANSPORT_WS, WsClient

INCIDENT = """id key status publicStatus category impact urgency priority version labels
  roles { role user } tasks { id title status doneBy } externalLinks { kind url }
  children { key status } parent { key } template { name }"""
PAYLOAD = f"incident {{ {INCIDENT} }} userErrors {{ field code message }}"
PAGE = """subscription { statusPage { overallStatus
  components { name status }
  activeIncidents { key title publicStatus updates { body publicStatus } }
  recentIncidents { key publicStatus } } }"""


def _mutation(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}"


DECLARE = _mutation("declareIncident", "DeclareIncidentInput")
ASSIGN = _mutation("assignRole", "AssignRoleInput")
NOTE = _mutation("addNote", "AddNoteInput")
UPDATE = _mutation("postUpdate", "PostUpdateInput")
TRANSITION = _mutation("transitionIncident", "TransitionIncidentInput")
TASK = _mutation("updateTask", "UpdateTaskInput")
LINK = _mutation("addLink", "AddLinkInput")
LINK_INCIDENTS = _mutation("linkIncidents", "LinkIncidentsInput")
TIMELINE = """query($id: ID!) { incident(id: $id) {
  timeline(first: 500) { edges { node { type actor visibility message } } } } }"""


@dataclass
class Person:
    name: str
    api: GraphQLClient
    key_id: str

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"

    def does(self, document: str, **input: Any) -> Any:
        """A mutation that must succeed; the incident after it."""
        payload = mutate(self.api, document, **input)
        assert payload["userErrors"] == [], payload
        return payload["incident"]


@dataclass
class Team:
    service: ServiceProcess
    admin: GraphQLClient
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    def person(self, name: str, role: str = "RESPONDER") -> Person:
        secret, key = create_key(self.admin, f"{name}-{self.tag}", role)
        return Person(f"{name}-{self.tag}", GraphQLClient(self.service.url, key=secret), key["id"])

    def component(self, name: str, **fields: Any) -> tuple[str, str]:
        full = f"{name} {self.tag}"
        return full, create_service(self.admin, full, **fields)

    def template(self, name: str) -> str:
        found = self.admin("{ incidentTemplates { id name } }")["incidentTemplates"]
        [template_id] = [t["id"] for t in found if t["name"] == name]
        return str(template_id)

    def timeline(self, incident_id: str) -> list[dict[str, Any]]:
        edges = self.admin(TIMELINE, {"id": incident_id})["incident"]["timeline"]["edges"]
        return [e["node"] for e in edges]

    @contextmanager
    def customer(self) -> Iterator[StatusPageWatcher]:
        """An anonymous visitor with the status page open."""
        with WsClient.initialised(self.service.ws_url, key=None, subprotocol=TRANSPORT_WS) as ws:
            ws.subscribe("page", PAGE)
            watcher = StatusPageWatcher(ws)
            watcher.page = ws.next_data("page")["statusPage"]
            yield watcher


@dataclass
class StatusPageWatcher:
    ws: WsClient
    page: dict[str, Any] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)

    def sees(self, check: Any, timeout: float = 20.0) -> dict[str, Any]:
        """Wait for a pushed page for which `check(page)` holds; every page received is
        kept (as text) so a scenario can assert nothing internal ever reached it."""
        while not check(self.page):
            self.page = self.ws.next_data("page", timeout=timeout)["statusPage"]
            self.seen.append(repr(self.page))
        return self.page

    def component(self, name: str) -> str:
        [status] = [c["status"] for c in self.page["components"] if c["name"] == name]
        return str(status)

    def incident(self, key: str) -> dict[str, Any] | None:
        found = [i for i in self.page["activeIncidents"] if i["key"] == key]
        return found[0] if found else None

    def never_saw(self, *secrets: str) -> None:
        for secret in secrets:
            assert not [p for p in self.seen if secret in p], f"{secret!r} reached the page"
            assert secret not in repr(self.page)
