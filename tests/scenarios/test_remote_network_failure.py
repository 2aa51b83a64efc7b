"""Situation 3: remote employees are cut off (VPN down), handled in the open internally
and never on the public status page. Written up in docs/scenarios.md."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.scenarios.team import ASSIGN, DECLARE, NOTE, TASK, TRANSITION, UPDATE, Team
from tests.support.processes import GraphQLClient, ServiceProcess


def test_vpn_down_for_remote_staff(service: ServiceProcess, gql: GraphQLClient) -> None:
    team = Team(service, gql)
    helpdesk, neteng = team.person("helpdesk"), team.person("neteng")
    vpn, vpn_id = team.component("VPN gateway", public=False)
    public_name, _ = team.component("Website")

    with team.customer() as customer:
        incident = helpdesk.does(
            DECLARE, title=f"Remote staff cannot connect to the VPN {team.tag}",
            templateId=team.template("Network failure for remote staff"),
            componentImpacts=[{"serviceId": vpn_id, "status": "MAJOR_OUTAGE"}],
        )  # fmt: skip
        assert incident["category"] == "NETWORK" and incident["urgency"] == "HIGH"
        neteng.does(ASSIGN, id=incident["id"], role="COMMANDER", user=neteng.actor)

        # The scribe writes down when the first call came in, before anyone declared.
        declared_at = datetime.fromisoformat(
            gql("query($id: ID!) { incident(id: $id) { declaredAt } }", {"id": incident["id"]})[
                "incident"
            ]["declaredAt"]
        )
        first_call = (declared_at - timedelta(minutes=20)).isoformat()
        helpdesk.does(
            NOTE, id=incident["id"], occurredAt=first_call,
            body=f"First helpdesk call from the Lyon office {team.tag}: VPN times out",
        )  # fmt: skip
        helpdesk.does(
            UPDATE, id=incident["id"], visibility="INTERNAL",
            body="Staff told by SMS: use the office network or wait for the all-clear",
        )  # fmt: skip
        for task in incident["tasks"][:3]:
            neteng.does(TASK, id=task["id"], status="DONE")
        neteng.does(TRANSITION, id=incident["id"], to="IDENTIFIED",
                    note="Gateway A lost its uplink; failing over to gateway B")  # fmt: skip
        done = neteng.does(
            TRANSITION, id=incident["id"], to="RESOLVED", resolution="Failed over to gateway B"
        )
        assert done["status"] == "RESOLVED"
        assert [t["status"] for t in done["tasks"][:3]] == ["DONE"] * 3

        # A website change shows that the page is live, while nothing of the VPN
        # incident ever reached it.
        gql(
            "mutation($i: SetServiceStatusInput!) { setServiceStatus(input: $i) "
            "{ userErrors { message } } }",
            {"i": {"id": _id(gql, public_name), "status": "DEGRADED_PERFORMANCE"}},
        )
        customer.sees(lambda p: any(c["name"] == public_name
                                    and c["status"] == "DEGRADED_PERFORMANCE"
                                    for c in p["components"]))  # fmt: skip
        assert vpn not in [c["name"] for c in customer.page["components"]]
        customer.never_saw(incident["key"], vpn, f"Lyon office {team.tag}")

    notes = [e for e in team.timeline(incident["id"]) if e["type"] == "NOTE_ADDED"]
    assert notes[0]["actor"] == helpdesk.actor


def _id(gql: GraphQLClient, name: str) -> str:
    services = gql("{ services { id name } }")["services"]
    [found] = [s["id"] for s in services if s["name"] == name]
    return str(found)
