"""Restricted incidents exist only for their participants and ADMIN.

Every role, as a participant and not, over HTTP and both websocket
protocols; and a planted marker in the title, notes and action items that
must never reach a non-participant by any query, subscription, error,
count or stat.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import create_key, mutate
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, WsClient, message_errors

SHOW = """query($id: ID, $key: String) {
  incident(id: $id, key: $key) { id key title restricted participants } }"""
LIST = """query($f: IncidentFilter) { incidents(filter: $f, first: 100) {
  totalCount edges { node { key title } } } }"""
STATS = """query($from: DateTime!, $to: DateTime!, $f: IncidentFilter, $g: [StatsDimension!]) {
  incidentStats(from: $from, to: $to, filter: $f, groupBy: $g) {
    count groups { key count } } }"""
PAYLOAD = "incident { id key version } userErrors { field code message }"
DECLARE = (
    f"mutation($input: DeclareIncidentInput!) {{ declareIncident(input: $input) {{ {PAYLOAD} }} }}"
)
NOTE = f"mutation($input: AddNoteInput!) {{ addNote(input: $input) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($input: PostUpdateInput!) {{ postUpdate(input: $input) {{ {PAYLOAD} }} }}"
ADD_PARTICIPANT = (
    f"mutation($input: ParticipantInput!) {{ addParticipant(input: $input) {{ {PAYLOAD} }} }}"
)
RESTRICT = f"""mutation($input: SetIncidentRestrictedInput!) {{
  setIncidentRestricted(input: $input) {{ {PAYLOAD} }} }}"""
LINK = f"mutation($input: LinkIncidentsInput!) {{ linkIncidents(input: $input) {{ {PAYLOAD} }} }}"
LINKED = "query($id: ID!) { incident(id: $id) { links { incidentId incident { title } } } }"
UPDATE_INCIDENT = (
    f"mutation($input: UpdateIncidentInput!) {{ updateIncident(input: $input) {{ {PAYLOAD} }} }}"
)
ALERTS = "query($id: ID!) { alerts(filter: {incidentId: $id}) { totalCount } }"
ITEMS_OF = """query($id: ID!) {
  actionItems(filter: {incidentId: $id}) { totalCount edges { node { title } } } }"""
ACTION_ITEM = """mutation($input: AddActionItemInput!) { addActionItem(input: $input) {
  userErrors { code field } } }"""
ACTION_ITEMS = "{ actionItems(first: 100) { edges { node { title } } } }"
EVENTS = "subscription($id: ID!) { incidentEvents(incidentId: $id) { seq message } }"
CHANGED = "subscription { incidentChanged { key title } }"


@dataclass
class Caller:
    name: str
    key: str
    role: str
    participant: bool
    api: GraphQLClient
    key_id: str = "admin"

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"


@dataclass
class Setup:
    marker: str
    incident: dict[str, Any]
    public: dict[str, Any]
    callers: list[Caller]


@pytest.fixture(scope="module")
def setup(service: ServiceProcess, gql: GraphQLClient) -> Iterator[Setup]:
    tag = uuid.uuid4().hex[:8]
    marker = f"MARKER{tag}"
    callers = []
    for role in ("VIEWER", "RESPONDER"):
        for participant in (True, False):
            name = f"{role.lower()}-{'in' if participant else 'out'}-{tag}"
            secret, key = create_key(gql, name, role)
            api = GraphQLClient(service.url, key=secret)
            callers.append(Caller(name, secret, role, participant, api, key["id"]))
    declarer = next(c for c in callers if c.role == "RESPONDER" and c.participant)
    incident = mutate(
        declarer.api, DECLARE, title=f"Ransomware on file servers {marker}",
        category="SECURITY", restricted=True, labels=[marker],
    )["incident"]  # fmt: skip
    assert incident is not None
    for caller in callers:
        if caller.participant and caller is not declarer:
            payload = mutate(declarer.api, ADD_PARTICIPANT, id=incident["id"], actor=caller.actor)
            assert payload["userErrors"] == []
    mutate(declarer.api, NOTE, id=incident["id"], body=f"Strain identified {marker}")
    added = declarer.api(
        ACTION_ITEM,
        {"input": {"incidentId": incident["id"], "title": f"Rotate keys {marker}", "owner": "sec"}},
    )["addActionItem"]
    assert added["userErrors"] == []
    public = mutate(gql, DECLARE, title=f"Unrelated outage {tag}")["incident"]
    linked = mutate(declarer.api, LINK, id=public["id"], relatedId=incident["id"])
    assert linked["userErrors"] == []
    yield Setup(marker, incident, public, callers)


def test_participants_and_admin_see_it_others_do_not(setup: Setup, gql: GraphQLClient) -> None:
    incident = setup.incident
    for caller in [*setup.callers, Caller("admin", ADMIN_KEY, "ADMIN", False, gql)]:
        sees = caller.participant or caller.role == "ADMIN"
        by_id = caller.api(SHOW, {"id": incident["id"]})["incident"]
        by_key = caller.api(SHOW, {"key": incident["key"]})["incident"]
        listed = caller.api(LIST, {"f": {"label": setup.marker}})["incidents"]
        assert (by_id is not None, by_key is not None) == (sees, sees), caller.name
        assert listed["totalCount"] == (1 if sees else 0), caller.name
        assert len(listed["edges"]) == listed["totalCount"]
        if sees:
            assert by_id["restricted"] is True
            assert {c.actor for c in setup.callers if c.participant} <= set(by_id["participants"])
        links = caller.api(LINKED, {"id": setup.public["id"]})["incident"]["links"]
        assert [x["incidentId"] for x in links] == ([incident["id"]] if sees else []), caller.name


def test_non_participants_cannot_change_it(setup: Setup) -> None:
    for caller in setup.callers:
        if caller.participant or caller.role != "RESPONDER":
            continue
        payload = mutate(caller.api, NOTE, id=setup.incident["id"], body="poke")
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["input", "id"])
        ]
        unknown = mutate(caller.api, NOTE, id="0" * 24, body="poke")
        assert payload["userErrors"] == unknown["userErrors"]  # indistinguishable
        restricted = mutate(caller.api, RESTRICT, id=setup.incident["id"], restricted=False)
        assert restricted["userErrors"][0]["code"] == "NOT_FOUND"
        # A stale expectedVersion must not answer CONFLICT (which would say it exists).
        guarded = mutate(
            caller.api, UPDATE_INCIDENT, id=setup.incident["id"], title="x", expectedVersion=-1
        )
        assert [e["code"] for e in guarded["userErrors"]] == ["NOT_FOUND"]
        for probe, field in ((ALERTS, "alerts"), (ITEMS_OF, "actionItems")):
            answer = caller.api(probe, {"id": setup.incident["id"]})[field]
            assert answer["totalCount"] == 0, (field, answer)


def test_it_cannot_be_published_until_an_admin_lifts_the_restriction(
    setup: Setup, service: ServiceProcess, gql: GraphQLClient
) -> None:
    declarer = next(c for c in setup.callers if c.role == "RESPONDER" and c.participant)
    refused = mutate(declarer.api, UPDATE, id=setup.incident["id"], body="x", visibility="PUBLIC")
    assert [e["field"] for e in refused["userErrors"]] == [["input", "visibility"]]
    lift = mutate(declarer.api, RESTRICT, id=setup.incident["id"], restricted=False)
    assert [e["field"] for e in lift["userErrors"]] == [["input", "restricted"]]
    page = GraphQLClient(service.url, key=None)("{ statusPage { activeIncidents { title } } }")
    assert setup.marker not in repr(page)


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
def test_subscriptions_never_carry_it(
    setup: Setup, service: ServiceProcess, gql: GraphQLClient, subprotocol: str
) -> None:
    declarer = next(c for c in setup.callers if c.role == "RESPONDER" and c.participant)
    for caller in setup.callers:
        with WsClient.initialised(service.ws_url, caller.key, subprotocol) as ws:
            ws.subscribe("events", EVENTS, {"id": setup.incident["id"]})
            first = ws.recv()
            if caller.participant:
                assert first["type"] in ("next", "data"), first
            else:
                [error] = message_errors(first)
                assert error["extensions"]["code"] == "NOT_FOUND", first
                assert setup.marker not in repr(first)
            ws.subscribe("changed", CHANGED)

            def poke() -> None:
                # A change to the restricted incident, then one to a public one: a
                # non-participant gets the second and never the first.
                mutate(declarer.api, NOTE, id=setup.incident["id"], body="restricted change")
                mutate(gql, NOTE, id=setup.public["id"], body="public change")

            while True:
                message = ws.recv_poking(poke, wait=0.5, timeout=30)
                assert caller.participant or setup.marker not in repr(message), caller.name
                if message.get("id") == "changed" and "Unrelated outage" in repr(message):
                    break


def test_stats_count_it_in_plain_totals_only(setup: Setup, gql: GraphQLClient) -> None:
    now = datetime.now(UTC)
    window = {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }
    admin_total = gql(STATS, window)["incidentStats"]["count"]
    for caller in setup.callers:
        total = caller.api(STATS, window)["incidentStats"]["count"]
        assert total == admin_total  # counted in the plain total
        probe = caller.api(STATS, {**window, "f": {"label": setup.marker}})["incidentStats"]
        assert probe["count"] == (1 if caller.participant else 0), caller.name
        grouped = caller.api(STATS, {**window, "f": {"label": setup.marker}, "g": ["CATEGORY"]})
        assert setup.marker not in repr(grouped)


def test_the_marker_never_reaches_a_non_participant(setup: Setup) -> None:
    for caller in setup.callers:
        if caller.participant:
            continue
        answers = [
            caller.api(SHOW, {"id": setup.incident["id"]}),
            caller.api(LIST, {}),
            caller.api(ACTION_ITEMS),
            caller.api(LINKED, {"id": setup.public["id"]}),
            caller.api.post(SHOW, {"key": setup.incident["key"]}).text,
        ]
        for answer in answers:
            assert setup.marker not in repr(answer), (caller.name, answer)


def test_published_incidents_cannot_be_restricted_and_nobody_joins_from_outside(
    gql: GraphQLClient, setup: Setup
) -> None:
    public = mutate(gql, DECLARE, title="Published outage", visibility="PUBLIC")["incident"]
    refused = mutate(gql, RESTRICT, id=public["id"], restricted=True)
    assert [e["field"] for e in refused["userErrors"]] == [["input", "restricted"]]
    outsider = next(c for c in setup.callers if c.role == "RESPONDER" and not c.participant)
    plain = mutate(gql, DECLARE, title="Not restricted yet")["incident"]
    joined = mutate(outsider.api, ADD_PARTICIPANT, id=plain["id"], actor=outsider.actor)
    assert [e["field"] for e in joined["userErrors"]] == [["input", "actor"]]


def test_a_stream_opened_before_the_restriction_ends_with_it(
    service: ServiceProcess, gql: GraphQLClient, setup: Setup
) -> None:
    outsider = next(c for c in setup.callers if c.role == "VIEWER" and not c.participant)
    incident = mutate(gql, DECLARE, title=f"Soon restricted {setup.marker}x")["incident"]
    with WsClient.initialised(service.ws_url, outsider.key, TRANSPORT_WS) as ws:
        ws.subscribe("e", EVENTS, {"id": incident["id"]})
        assert ws.recv()["type"] == "next"  # DECLARED, replayed
        mutate(gql, RESTRICT, id=incident["id"], restricted=True)
        mutate(gql, NOTE, id=incident["id"], body=f"after {setup.marker}")
        message = ws.recv()
        # The stream ends with the error an unknown incident gets, and no event.
        assert message["payload"].get("data") is None, message
        assert message_errors(message)[0]["extensions"]["code"] == "NOT_FOUND"
        assert setup.marker not in repr(message)
