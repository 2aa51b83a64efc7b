"""A disaster: one major incident gathers the sites' incidents; many components move at once."""

from __future__ import annotations

import uuid

from tests.support.api import (
    LINK,
    TRANSITION,
    create_service,
    declare,
    mutate,
    ok,
    timeline,
)
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import TRANSPORT_WS, WsClient

FAMILY = """query($id: ID!) { incident(id: $id) {
  key status version parent { key } children { key status } } }"""
SET_STATUSES = """mutation($input: [SetServiceStatusInput!]!) {
  setServiceStatuses(input: $input) {
    services { id status } userErrors { field code message } } }"""
PAGE = "subscription { statusPage { components { name status } } }"


def test_a_major_incident_gathers_the_sites_and_resolves_last(gql: GraphQLClient) -> None:
    flood = declare(gql, "Flood in the Paris data centre")
    sites = [declare(gql, f"Site {n} unreachable") for n in range(2)]
    for site in sites:
        ok(gql, LINK, id=flood["id"], relatedId=site["id"], kind="PARENT_OF")

    family = gql(FAMILY, {"id": flood["id"]})["incident"]
    assert [c["key"] for c in family["children"]] == [s["key"] for s in sites]
    assert gql(FAMILY, {"id": sites[0]["id"]})["incident"]["parent"] == {"key": flood["key"]}

    # The parent cannot resolve while a site is open; the error lists them.
    refused = mutate(gql, TRANSITION, id=flood["id"], to="RESOLVED")
    [error] = refused["userErrors"]
    assert error["code"] == "CHILDREN_OPEN"
    assert all(s["key"] in error["message"] for s in sites)

    for site in sites:
        ok(gql, TRANSITION, id=site["id"], to="RESOLVED", resolution="Failed over")
    resolved_events = [e for e in timeline(gql, flood["id"]) if e["type"] == "CHILD_RESOLVED"]
    assert [e["data"]["key"] for e in resolved_events] == [s["key"] for s in sites]
    assert ok(gql, TRANSITION, id=flood["id"], to="RESOLVED")["status"] == "RESOLVED"


def test_two_levels_and_second_parents_are_refused(gql: GraphQLClient) -> None:
    top, middle, leaf, other = (declare(gql, f"Nesting {n}") for n in range(4))
    ok(gql, LINK, id=middle["id"], relatedId=leaf["id"], kind="PARENT_OF")
    for parent, child, field in (
        (top, middle, "relatedId"),  # middle gathers incidents already
        (leaf, other, "id"),  # leaf belongs to a major incident already
        (other, leaf, "relatedId"),  # a second parent
        (top, top, "relatedId"),  # itself
    ):
        payload = mutate(gql, LINK, id=parent["id"], relatedId=child["id"], kind="PARENT_OF")
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", field], "VALIDATION")
        ], (parent["title"], child["title"], payload)
    assert gql(FAMILY, {"id": top["id"]})["incident"]["children"] == []


def test_many_components_move_in_one_change(service: ServiceProcess, gql: GraphQLClient) -> None:
    tag = uuid.uuid4().hex[:8]
    names = [f"site-{tag}-{n}" for n in range(3)]
    ids = [create_service(gql, name) for name in names]
    with WsClient.initialised(service.ws_url, key=None, subprotocol=TRANSPORT_WS) as page:
        page.subscribe("s", PAGE)
        page.next_data("s")
        payload = gql(SET_STATUSES, {"input": [{"id": i, "status": "MAJOR_OUTAGE"} for i in ids]})[
            "setServiceStatuses"
        ]
        assert payload["userErrors"] == []
        assert [s["status"] for s in payload["services"]] == ["MAJOR_OUTAGE"] * 3
        # Every page pushed after the change shows all three down, never some of them.
        while True:
            components = page.next_data("s")["statusPage"]["components"]
            ours = {c["name"]: c["status"] for c in components if c["name"] in names}
            assert set(ours.values()) in ({"OPERATIONAL"}, {"MAJOR_OUTAGE"}), ours
            if set(ours.values()) == {"MAJOR_OUTAGE"}:
                break


def test_a_bad_entry_refuses_the_whole_batch(gql: GraphQLClient) -> None:
    good = create_service(gql, f"batch-{uuid.uuid4().hex[:8]}")
    for entries, code in (
        ([{"id": good, "status": "MAJOR_OUTAGE"}, {"id": "0" * 24, "status": "MAJOR_OUTAGE"}],
         "NOT_FOUND"),
        ([{"id": good, "status": "MAJOR_OUTAGE"}, {"id": good, "status": "OPERATIONAL"}],
         "VALIDATION"),
        ([], "VALIDATION"),
    ):  # fmt: skip
        payload = gql(SET_STATUSES, {"input": entries})["setServiceStatuses"]
        assert payload["services"] is None and payload["userErrors"][0]["code"] == code
    status = gql("{ services { id status } }")["services"]
    assert {s["id"]: s["status"] for s in status}[good] == "OPERATIONAL"
