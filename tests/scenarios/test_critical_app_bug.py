"""Situation 4: a software bug degrades a critical application; the fix is linked, the
customers are told, the component recovers. Written up in docs/scenarios.md."""

from __future__ import annotations

from tests.scenarios.team import DECLARE, LINK, TASK, TRANSITION, UPDATE, Team
from tests.support.processes import GraphQLClient, ServiceProcess


def test_bug_degrades_the_invoicing_app(service: ServiceProcess, gql: GraphQLClient) -> None:
    team = Team(service, gql)
    dev = team.person("dev")
    app, app_id = team.component("Invoicing")

    with team.customer() as customer:
        incident = dev.does(
            DECLARE, title=f"Invoices render without line items {team.tag}",
            templateId=team.template("Critical application bug"),
            componentImpacts=[{"serviceId": app_id, "status": "DEGRADED_PERFORMANCE"}],
        )  # fmt: skip
        assert incident["category"] == "SOFTWARE_BUG"
        dev.does(LINK, incidentId=incident["id"], kind="TICKET", title="BUG-812",
                 url="https://tracker.example.com/BUG-812")  # fmt: skip
        dev.does(
            UPDATE, id=incident["id"], visibility="PUBLIC",
            body="Some invoices are missing line items. Payments are not affected.",
        )  # fmt: skip
        customer.sees(lambda p: customer.incident(incident["key"]) is not None
                      and customer.component(app) == "DEGRADED_PERFORMANCE")  # fmt: skip

        mitigate = next(t for t in incident["tasks"] if t["title"].startswith("Mitigate"))
        dev.does(TASK, id=mitigate["id"], status="DONE")
        fixed = dev.does(LINK, incidentId=incident["id"], kind="PULL_REQUEST", title="Fix #4411",
                         url="https://git.example.com/invoicing/pull/4411")  # fmt: skip
        assert [x["kind"] for x in fixed["externalLinks"]] == ["TICKET", "PULL_REQUEST"]
        dev.does(TRANSITION, id=incident["id"], to="RESOLVED",
                 resolution="Reverted the template change; fix #4411 deployed",
                 publicUpdate="Invoices are complete again.")  # fmt: skip
        customer.sees(lambda p: customer.incident(incident["key"]) is None
                      and customer.component(app) == "OPERATIONAL")  # fmt: skip
        customer.never_saw("BUG-812", "4411", "tracker.example.com")
