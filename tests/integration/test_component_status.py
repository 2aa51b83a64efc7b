"""Component status is derived from incidents, overrides and maintenance, never remembered.

The story of the issue, played over the API: an incident holds Payments in
MAJOR_OUTAGE, resolving it recovers Payments by itself, and the resolved
incident moves to the page's history with its public updates.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.api import (
    SET_SERVICE_STATUS,
    TRANSITION,
    UPDATE,
    create_service,
    declare,
    mutate,
    ok,
    post_update,
)
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import WsClient

SERVICES = "{ services { id name status manualStatus statusReason public group } }"
PAGE = """{ statusPage { overallStatus
  components { name status group uptimePercent uptime(days: 3) { date worstStatus } }
  activeIncidents { key title components { name } updates { body publicStatus } resolvedAt }
  recentIncidents { key publicStatus resolvedAt updates { body publicStatus } } } }"""
IMPACTS = "componentImpacts { status startedAt endedAt service { id name } }"
UPDATE_SERVICE = """mutation($input: UpdateServiceInput!) {
  updateService(input: $input) { service { id name public group } userErrors { field code } } }"""


def service(gql: GraphQLClient, service_id: str) -> dict[str, Any]:
    (found,) = [s for s in gql(SERVICES)["services"] if s["id"] == service_id]
    return found


def page(gql: GraphQLClient) -> dict[str, Any]:
    return dict(gql(PAGE, key=None)["statusPage"])


def named(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:8]}"


def test_the_story_component_recovers_by_itself_and_the_incident_goes_to_history(
    gql: GraphQLClient,
) -> None:
    payments_name = named("Payments")
    payments = create_service(gql, payments_name)
    incident = declare(
        gql,
        "Payments are failing",
        componentImpacts=[{"serviceId": payments, "status": "MAJOR_OUTAGE"}],
    )
    assert service(gql, payments)["status"] == "MAJOR_OUTAGE"
    assert service(gql, payments)["statusReason"] == f"{incident['key']}: MAJOR_OUTAGE"
    assert service(gql, payments)["manualStatus"] == "OPERATIONAL"
    post_update(gql, incident["id"], "We are investigating failed payments", "PUBLIC")

    during = page(gql)
    (shown,) = [c for c in during["components"] if c["name"] == payments_name]
    assert shown["status"] == "MAJOR_OUTAGE"
    (active,) = [i for i in during["activeIncidents"] if i["key"] == incident["key"]]
    assert [c["name"] for c in active["components"]] == [payments_name]
    assert active["updates"][0]["body"] == "We are investigating failed payments"

    resolved = ok(
        gql,
        TRANSITION,
        id=incident["id"],
        to="RESOLVED",
        publicUpdate="Resolved: payments work again",
    )
    assert resolved["status"] == "RESOLVED"
    assert service(gql, payments)["status"] == "OPERATIONAL"
    assert service(gql, payments)["statusReason"] is None

    after = page(gql)
    (shown,) = [c for c in after["components"] if c["name"] == payments_name]
    assert shown["status"] == "OPERATIONAL"
    assert shown["uptime"][-1]["worstStatus"] == "MAJOR_OUTAGE"
    assert shown["uptimePercent"] < 100
    assert incident["key"] not in [i["key"] for i in after["activeIncidents"]]
    (past,) = [i for i in after["recentIncidents"] if i["key"] == incident["key"]]
    assert past["publicStatus"] == "RESOLVED" and past["resolvedAt"] is not None
    assert past["updates"][0] == {
        "body": "Resolved: payments work again",
        "publicStatus": "RESOLVED",
    }


def test_the_worst_cause_holds_a_component_and_each_one_releases_it(
    gql: GraphQLClient,
) -> None:
    api = create_service(gql, named("API"))
    first = declare(
        gql, "Slow API", componentImpacts=[{"serviceId": api, "status": "DEGRADED_PERFORMANCE"}]
    )
    second = declare(
        gql, "API down", componentImpacts=[{"serviceId": api, "status": "MAJOR_OUTAGE"}]
    )
    assert service(gql, api)["statusReason"] == f"{second['key']}: MAJOR_OUTAGE"
    ok(gql, SET_SERVICE_STATUS, id=api, status="PARTIAL_OUTAGE")
    ok(gql, TRANSITION, id=second["id"], to="RESOLVED")
    # The manual override is now the worst cause.
    held = service(gql, api)
    assert (held["status"], held["statusReason"]) == ("PARTIAL_OUTAGE", "manual")
    ok(gql, SET_SERVICE_STATUS, id=api, status="OPERATIONAL")
    assert service(gql, api)["statusReason"] == f"{first['key']}: DEGRADED_PERFORMANCE"
    # Reopening the resolved incident resumes its impact.
    ok(gql, TRANSITION, id=second["id"], to="INVESTIGATING")
    assert service(gql, api)["status"] == "MAJOR_OUTAGE"
    # Changing the impact ends one period and starts another.
    updated = ok(
        gql,
        UPDATE.replace("incident {", f"incident {{ {IMPACTS}"),
        id=second["id"],
        componentImpacts=[{"serviceId": api, "status": "PARTIAL_OUTAGE"}],
    )
    periods = [(p["status"], p["endedAt"] is None) for p in updated["componentImpacts"]]
    assert periods == [("MAJOR_OUTAGE", False), ("MAJOR_OUTAGE", False), ("PARTIAL_OUTAGE", True)]
    assert service(gql, api)["status"] == "PARTIAL_OUTAGE"
    for incident in (first, second):
        ok(gql, TRANSITION, id=incident["id"], to="RESOLVED")
    assert service(gql, api)["status"] == "OPERATIONAL"


def test_internal_services_never_reach_the_public_page(gql: GraphQLClient) -> None:
    secret = named("fileserver-SECRET")
    internal = ok(
        gql,
        """mutation($input: CreateServiceInput!) {
          createService(input: $input) { service { id public } userErrors { code } } }""",
        name=secret,
        public=False,
    )
    assert internal["public"] is False
    shop = create_service(gql, named("Shop"))
    incident = declare(
        gql,
        "Ransomware contained",
        visibility="PUBLIC",
        componentImpacts=[
            {"serviceId": internal["id"], "status": "MAJOR_OUTAGE"},
            {"serviceId": shop, "status": "DEGRADED_PERFORMANCE"},
        ],
    )
    # Internally the service is impacted like any other.
    assert service(gql, internal["id"])["status"] == "MAJOR_OUTAGE"
    text = str(page(gql))
    assert secret not in text and "SECRET" not in text
    (shown,) = [i for i in page(gql)["activeIncidents"] if i["key"] == incident["key"]]
    assert len(shown["components"]) == 1
    public_incident = gql(
        "query($k: String!) { publicIncident(key: $k) { components { name } } }",
        {"k": incident["key"]},
        key=None,
    )["publicIncident"]
    assert secret not in str(public_incident)
    # Made public, it shows; grouped, it carries its group.
    moved = ok(gql, UPDATE_SERVICE, id=internal["id"], public=True, group="Storage")
    assert (moved["public"], moved["group"]) == (True, "Storage")
    assert secret in str(page(gql))
    ok(gql, UPDATE_SERVICE, id=internal["id"], public=False)


@pytest.mark.parametrize(
    ("impacts", "code", "field"),
    [
        ([{"serviceId": "0" * 24, "status": "MAJOR_OUTAGE"}], "NOT_FOUND", "componentImpacts"),
        ([{"serviceId": "zz", "status": "MAJOR_OUTAGE"}], "VALIDATION", "componentImpacts"),
        ("OPERATIONAL", "VALIDATION", "componentImpacts"),
        ("UNDER_MAINTENANCE", "VALIDATION", "componentImpacts"),
        ("twice", "VALIDATION", "componentImpacts"),
    ],
)
def test_bad_impacts_are_refused_and_nothing_is_written(
    gql: GraphQLClient, tag: str, impacts: Any, code: str, field: str
) -> None:
    component = create_service(gql, named("Bad impact"))
    if impacts == "twice":
        impacts = [{"serviceId": component, "status": "MAJOR_OUTAGE"}] * 2
    elif isinstance(impacts, str):
        impacts = [{"serviceId": component, "status": impacts}]
    payload = mutate(
        gql,
        """mutation($input: DeclareIncidentInput!) {
          declareIncident(input: $input) { incident { id } userErrors { field code message } } }""",
        title="Bad impact",
        labels=[tag],
        componentImpacts=impacts,
    )
    assert payload["incident"] is None
    (error,) = payload["userErrors"]
    assert (error["code"], error["field"]) == (code, ["input", field])
    count = gql(
        "query($f: IncidentFilter) { incidents(filter: $f) { totalCount } }", {"f": {"label": tag}}
    )
    assert count["incidents"]["totalCount"] == 0
    assert service(gql, component)["status"] == "OPERATIONAL"


@pytest.mark.parametrize("days", [0, 367])
def test_uptime_days_out_of_range_name_the_argument(gql: GraphQLClient, days: int) -> None:
    create_service(gql, named("Uptime"))  # at least one component to ask about
    body = gql.post(
        f"{{ statusPage {{ components {{ uptime(days: {days}) {{ date }} }} }} }}", key=None
    ).json()
    (error,) = {e["message"]: e for e in body["errors"]}.values()
    assert error["extensions"]["code"] == "VALIDATION" and "days" in error["message"]


def test_concurrent_changes_on_one_component_leave_the_status_a_recomputation_gives(
    gql: GraphQLClient,
) -> None:
    shared = create_service(gql, named("Shared"))

    def churn(n: int) -> str:
        incident = declare(
            gql,
            f"Churn {n}",
            componentImpacts=[{"serviceId": shared, "status": "PARTIAL_OUTAGE"}],
        )
        if n % 2 == 0:
            ok(gql, TRANSITION, id=incident["id"], to="RESOLVED")
        return str(incident["key"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        keys = list(pool.map(churn, range(12)))
    still_open = sorted(int(k.split("-")[1]) for n, k in enumerate(keys) if n % 2 == 1)
    held = service(gql, shared)
    assert held["status"] == "PARTIAL_OUTAGE"
    assert held["statusReason"] == f"INC-{still_open[0]}: PARTIAL_OUTAGE"
    for n, key in enumerate(keys):
        if n % 2 == 1:
            found = gql("query($k: String) { incident(key: $k) { id } }", {"k": key})
            ok(gql, TRANSITION, id=found["incident"]["id"], to="RESOLVED")
    assert service(gql, shared)["status"] == "OPERATIONAL"


def test_a_status_page_subscriber_sees_the_component_fail_and_recover_live(
    service: ServiceProcess, gql: GraphQLClient
) -> None:
    name = named("Checkout")
    component = create_service(gql, name)
    client = WsClient.initialised(service.ws_url, key=None)
    try:
        client.subscribe("p", "subscription { statusPage { components { name status } } }")

        def status_now() -> str | None:
            message = client.recv()
            assert message["type"] == "next", message
            shown = message["payload"]["data"]["statusPage"]["components"]
            return next((c["status"] for c in shown if c["name"] == name), None)

        wait_for(lambda: status_now() == "OPERATIONAL", interval=0)
        incident = declare(
            gql,
            "Checkout down",
            componentImpacts=[{"serviceId": component, "status": "MAJOR_OUTAGE"}],
        )
        wait_for(lambda: status_now() == "MAJOR_OUTAGE", interval=0)
        ok(gql, TRANSITION, id=incident["id"], to="RESOLVED")
        wait_for(lambda: status_now() == "OPERATIONAL", interval=0)
    finally:
        client.close()
