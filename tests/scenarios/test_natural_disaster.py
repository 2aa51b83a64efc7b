"""Situation 5: a flood takes a data centre down; a major incident gathers the sites'
incidents, the components go down together and come back together. Written up in
docs/scenarios.md."""

from __future__ import annotations

from tests.scenarios.team import DECLARE, LINK_INCIDENTS, TRANSITION, UPDATE, Team
from tests.support.processes import GraphQLClient, ServiceProcess

SET_STATUSES = """mutation($input: [SetServiceStatusInput!]!) {
  setServiceStatuses(input: $input) { services { status } userErrors { message } } }"""


def test_flood_in_the_primary_data_centre(service: ServiceProcess, gql: GraphQLClient) -> None:
    team = Team(service, gql)
    dr_lead, paris, lyon = team.person("drlead"), team.person("paris"), team.person("lyon")
    sites = [team.component("Paris site"), team.component("Lyon site")]

    with team.customer() as customer:
        major = dr_lead.does(
            DECLARE, title=f"Flood in the primary data centre {team.tag}",
            templateId=team.template("Natural disaster / disaster recovery"),
        )  # fmt: skip
        assert major["category"] == "DISASTER"
        assert any("Fail over to the secondary site" in t["title"] for t in major["tasks"])

        # Both sites go down in one change: the page never shows one without the other.
        down = gql(SET_STATUSES, {"input": [{"id": i, "status": "MAJOR_OUTAGE"} for _, i in sites]})
        assert down["setServiceStatuses"]["userErrors"] == []
        customer.sees(lambda p: all(customer.component(n) == "MAJOR_OUTAGE" for n, _ in sites))

        site_incidents = []
        for person, (name, _) in zip((paris, lyon), sites, strict=True):
            site = person.does(DECLARE, title=f"{name} unreachable")
            dr_lead.does(LINK_INCIDENTS, id=major["id"], relatedId=site["id"], kind="PARENT_OF")
            site_incidents.append((person, site))
        dr_lead.does(UPDATE, id=major["id"], visibility="PUBLIC",
                     body="A flood hit our primary data centre. We are failing over.")  # fmt: skip
        customer.sees(lambda p: customer.incident(major["key"]) is not None)

        # The major incident cannot be resolved while a site is still down.
        early = team.admin(
            "mutation($i: TransitionIncidentInput!) { transitionIncident(input: $i) "
            "{ userErrors { code message } } }",
            {"i": {"id": major["id"], "to": "RESOLVED"}},
        )["transitionIncident"]["userErrors"]
        assert [e["code"] for e in early] == ["CHILDREN_OPEN"]

        for person, site in site_incidents:
            person.does(TRANSITION, id=site["id"], to="RESOLVED", resolution="Failed over")
        up = gql(SET_STATUSES, {"input": [{"id": i, "status": "OPERATIONAL"} for _, i in sites]})
        assert up["setServiceStatuses"]["userErrors"] == []
        dr_lead.does(TRANSITION, id=major["id"], to="RESOLVED",
                     resolution="Running from the secondary site",
                     publicUpdate="All services run from our secondary site.")  # fmt: skip
        customer.sees(
            lambda p: (
                customer.incident(major["key"]) is None
                and all(customer.component(n) == "OPERATIONAL" for n, _ in sites)
            )
        )

    children = [e for e in team.timeline(major["id"]) if e["type"] == "CHILD_RESOLVED"]
    assert [e["actor"] for e in children] == [paris.actor, lyon.actor]
