"""Situation 1: the e-commerce checkout goes down, from the playbook to the all-clear.

Played against a live service as a team would: the on-call engineer
declares from the "E-commerce outage" playbook, a commander and a
communications lead take their roles, the team works the checklist and
keeps internal notes, the communications lead tells customers, and a
customer watching the status page sees each public step and nothing else.
Written up for people in docs/scenarios.md.
"""

from __future__ import annotations

from tests.scenarios.team import (
    ASSIGN,
    DECLARE,
    NOTE,
    TASK,
    TRANSITION,
    UPDATE,
    Team,
)
from tests.support.processes import GraphQLClient, ServiceProcess


def test_checkout_outage(service: ServiceProcess, gql: GraphQLClient) -> None:
    team = Team(service, gql)
    oncall, commander, comms = team.person("oncall"), team.person("cmdr"), team.person("comms")
    checkout, checkout_id = team.component("Checkout")
    storefront, _ = team.component("Storefront")
    secret = f"INTERNAL-{team.tag}: the payments DB primary ran out of connections"

    with team.customer() as customer:
        # 1. Monitoring pages the on-call engineer, who declares from the playbook.
        incident = oncall.does(
            DECLARE, title=f"Checkout failing for all customers {team.tag}",
            templateId=team.template("E-commerce outage"),
            componentImpacts=[{"serviceId": checkout_id, "status": "MAJOR_OUTAGE"}],
        )  # fmt: skip
        assert (incident["category"], incident["priority"]) == ("OUTAGE", "P1")
        assert incident["template"] == {"name": "E-commerce outage"}
        assert len(incident["tasks"]) == 10
        # The component goes down on the page at once; the incident is not public yet.
        customer.sees(lambda p: p["components"] and _status(p, checkout) == "MAJOR_OUTAGE")
        assert customer.incident(incident["key"]) is None
        assert _status(customer.page, storefront) == "OPERATIONAL"

        # 2. Roles, and the first internal findings.
        commander.does(ASSIGN, id=incident["id"], role="COMMANDER", user=commander.actor)
        commander.does(ASSIGN, id=incident["id"], role="COMMUNICATIONS_LEAD", user=comms.actor)
        oncall.does(NOTE, id=incident["id"], body=secret)

        # 3. The communications lead tells customers: the incident appears, with the update.
        comms.does(
            UPDATE, id=incident["id"], visibility="PUBLIC",
            body="We are investigating failed checkouts. Browsing is not affected.",
        )  # fmt: skip
        page = customer.sees(lambda p: customer.incident(incident["key"]) is not None)
        shown = customer.incident(incident["key"])
        assert shown is not None and shown["publicStatus"] == "INVESTIGATING"
        assert page["overallStatus"] == "MAJOR_OUTAGE"

        # 4. The team works the checklist and finds the cause.
        tasks = {t["title"]: t for t in incident["tasks"]}
        deploys = tasks["Check recent deploys and configuration changes; roll back if one lines up"]
        done = oncall.does(TASK, id=deploys["id"], status="DONE")
        assert {t["title"]: t["doneBy"] for t in done["tasks"]}[deploys["title"]] == oncall.actor
        commander.does(
            TRANSITION, id=incident["id"], to="IDENTIFIED",
            publicUpdate="We found the cause and are rolling out a fix.",
        )  # fmt: skip
        customer.sees(lambda p: (customer.incident(incident["key"]) or {}).get("publicStatus")
                      == "IDENTIFIED")  # fmt: skip
        commander.does(
            TRANSITION, id=incident["id"], to="MONITORING",
            publicUpdate="A fix is in place; we are watching checkout closely.",
        )  # fmt: skip

        # 5. The all-clear: the component comes back by itself, the incident leaves the
        # active list for the recent ones.
        resolved = commander.does(
            TRANSITION, id=incident["id"], to="RESOLVED",
            resolution=f"Raised the pool limit and restarted the payment workers ({team.tag}).",
            publicUpdate="Checkout works again. Orders placed during the outage were not charged.",
        )  # fmt: skip
        assert resolved["status"] == "RESOLVED"
        page = customer.sees(
            lambda p: (
                customer.incident(incident["key"]) is None and _status(p, checkout) == "OPERATIONAL"
            )
        )
        assert incident["key"] in [i["key"] for i in page["recentIncidents"]]
        customer.never_saw(secret, f"restarted the payment workers ({team.tag})")

    # The timeline names who did what.
    actors = {(e["type"], e["actor"]) for e in team.timeline(incident["id"])}
    assert ("DECLARED", oncall.actor) in actors
    assert ("TASK_COMPLETED", oncall.actor) in actors
    assert ("UPDATE_POSTED", comms.actor) in actors


def _status(page: dict[str, object], name: str) -> str | None:
    found = [c["status"] for c in page["components"] if c["name"] == name]  # type: ignore[attr-defined,index]
    return found[0] if found else None
