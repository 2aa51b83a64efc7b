"""No public output carries internal data: markers planted in every internal place are
searched for in every public output (GraphQL, the built-in pages, the JSON API, the feeds).

A positive control planted in public data must show up in the same outputs, so
an output that is empty or broken cannot pass for a clean one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.test_auth_public import status_page_query
from tests.support.api import (
    SET_ROOT_CAUSE,
    TRANSITION,
    add_note,
    create_service,
    declare,
    mutate,
    ok,
    post_update,
)
from tests.support.processes import GraphQLClient, ServiceProcess

SCHEDULE = """mutation($input: ScheduleMaintenanceInput!) {
  scheduleMaintenance(input: $input) { maintenance { id } userErrors { field message } } }"""
PUBLIC_PATHS = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
    "/status/feed.atom",
    "/status/feed.rss",
    "/status",
]


@pytest.fixture(scope="module")
def planted(gql: GraphQLClient) -> dict[str, Any]:
    """Internal data full of a secret marker, beside public data with a public one."""
    secret = f"SECRET{uuid.uuid4().hex[:10]}"
    public = f"PUBLIC{uuid.uuid4().hex[:10]}"
    internal_service = ok(
        gql,
        """mutation($input: CreateServiceInput!) {
          createService(input: $input) { service { id } userErrors { code } } }""",
        name=f"fileserver {secret}",
        description=f"internal {secret}",
        public=False,
    )["id"]
    public_service = create_service(gql, f"Storefront {public}", description="the shop")
    hidden = declare(gql, f"Ransomware {secret}", description=secret, labels=[secret])
    add_note(gql, hidden["id"], f"note {secret}")
    shown = declare(
        gql,
        f"Checkout slow {public}",
        description=f"description {secret}",
        labels=[f"label-{secret}"],
        componentImpacts=[
            {"serviceId": public_service, "status": "DEGRADED_PERFORMANCE"},
            {"serviceId": internal_service, "status": "MAJOR_OUTAGE"},
        ],
    )
    add_note(gql, shown["id"], f"note {secret}")
    post_update(gql, shown["id"], f"internal update {secret}", "INTERNAL")
    post_update(gql, shown["id"], f"We are looking into it {public}", "PUBLIC")
    ok(gql, SET_ROOT_CAUSE, id=shown["id"], rootCause=f"root cause {secret}")
    resolved = declare(gql, f"Search outage {public}", visibility="PUBLIC")
    add_note(gql, resolved["id"], f"note {secret}")
    ok(gql, TRANSITION, id=resolved["id"], to="RESOLVED", publicUpdate=f"Fixed {public}")
    now = datetime.now(UTC)
    for title, publish, services in (
        (f"Unpublished window {secret}", False, [public_service]),
        (f"Disk swap {public}", True, [public_service, internal_service]),
    ):
        payload = mutate(
            gql,
            SCHEDULE,
            title=title,
            description=f"{'details ' + public if publish else secret}",
            serviceIds=services,
            startsAt=(now + timedelta(hours=1)).isoformat(),
            endsAt=(now + timedelta(hours=2)).isoformat(),
            publish=publish,
        )
        assert payload["userErrors"] == [], payload
    return {"secret": secret, "public": public, "hidden": hidden, "shown": shown}


def public_bodies(
    service: ServiceProcess, gql: GraphQLClient, planted: dict[str, Any]
) -> dict[str, str]:
    """Every public output, fetched anonymously."""
    bodies: dict[str, str] = {}
    with httpx.Client(base_url=service.url, timeout=30) as http:
        for path in PUBLIC_PATHS:
            response = http.get(path)
            assert response.status_code == 200, (path, response.status_code)
            bodies[path] = response.text
        for label, incident in (("shown", planted["shown"]), ("hidden", planted["hidden"])):
            response = http.get(f"/status/incidents/{incident['key']}")
            bodies[f"incident page ({label})"] = f"{response.status_code} {response.text}"
    bodies["statusPage"] = gql.post(status_page_query(), key=None).text
    for label, incident in (("shown", planted["shown"]), ("hidden", planted["hidden"])):
        bodies[f"publicIncident ({label})"] = gql.post(
            """query($k: String!) { publicIncident(key: $k) { key title publicStatus
                 components { name description status } updates { body publicStatus at } } }""",
            {"k": incident["key"]},
            key=None,
        ).text
    return bodies


def test_no_internal_marker_in_any_public_output(
    service: ServiceProcess, gql: GraphQLClient, planted: dict[str, Any]
) -> None:
    bodies = public_bodies(service, gql, planted)
    leaks = [where for where, body in bodies.items() if planted["secret"] in body]
    assert leaks == []


@pytest.mark.parametrize(
    "where",
    [
        "/api/v2/summary.json",
        "/api/v2/incidents.json",
        "/api/v2/scheduled-maintenances.json",
        "/status/feed.atom",
        "/status/feed.rss",
        "statusPage",
        "incident page (shown)",
        "publicIncident (shown)",
    ],
)
def test_the_public_data_is_there_all_the_same(
    service: ServiceProcess, gql: GraphQLClient, planted: dict[str, Any], where: str
) -> None:
    assert planted["public"] in public_bodies(service, gql, planted)[where]


def test_an_internal_incident_page_is_a_plain_not_found(
    service: ServiceProcess, planted: dict[str, Any]
) -> None:
    with httpx.Client(base_url=service.url, timeout=30) as http:
        internal = http.get(f"/status/incidents/{planted['hidden']['key']}")
        unknown = http.get("/status/incidents/INC-999999999")
    assert internal.status_code == unknown.status_code == 404
    assert internal.text == unknown.text
    drop = {"date", "x-request-id", "content-length"}
    assert {k: v for k, v in internal.headers.items() if k not in drop} == {
        k: v for k, v in unknown.headers.items() if k not in drop
    }
