"""A public postmortem reaches the public outputs with its public fields only: a marker
planted in every internal place (notes, internal updates, root causes, the postmortem's
other fields, action items) never shows, while the public marker does."""

from __future__ import annotations

import uuid
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
    ok,
    post_update,
    publish_postmortem,
)
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess

ADD_ITEM = """mutation($input: AddActionItemInput!) {
  addActionItem(input: $input) { actionItem { id } userErrors { code } } }"""
PUBLIC_INCIDENT = """query($k: String!) { publicIncident(key: $k) { key title publicStatus
  components { name status } updates { body publicStatus at }
  postmortem { summary customerImpact resolution publishedAt } } }"""
PATHS = [
    "/api/v2/summary.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/status/feed.atom",
    "/status/feed.rss",
    "/status",
]


@pytest.fixture(scope="module")
def reviewed(gql: GraphQLClient) -> dict[str, Any]:
    secret = f"SECRET{uuid.uuid4().hex[:10]}"
    public = f"PUBLIC{uuid.uuid4().hex[:10]}"
    component = create_service(gql, f"Payments {uuid.uuid4().hex[:6]}")
    incident = declare(
        gql,
        "Card payments failing",
        impact="HIGH",
        urgency="HIGH",
        description=f"description {secret}",
        componentImpacts=[{"serviceId": component, "status": "MAJOR_OUTAGE"}],
    )
    iid = incident["id"]
    add_note(gql, iid, f"note {secret}")
    post_update(gql, iid, f"internal update {secret}", "INTERNAL")
    post_update(gql, iid, "We are looking into it.", "PUBLIC")
    ok(gql, SET_ROOT_CAUSE, id=iid, rootCause=f"root cause {secret}")
    ok(gql, TRANSITION, id=iid, to="RESOLVED", resolution=f"resolution {secret}")
    ok(gql, ADD_ITEM, incidentId=iid, title=f"item {secret}", owner=f"owner {secret}")
    publish_postmortem(
        gql,
        iid,
        public=True,
        summary=f"summary {public}",
        customerImpact=f"impact {public}",
        resolution=f"fix {public}",
        rootCause=f"pm root cause {secret}",
        trigger=f"trigger {secret}",
        detection=f"detection {secret}",
        contributingFactors=[f"factor {secret}"],
        whatWentWell=f"well {secret}",
        whatWentWrong=f"wrong {secret}",
        lessons=f"lessons {secret}",
        reviewers=[f"reviewer {secret}"],
    )
    ok(gql, TRANSITION, id=iid, to="CLOSED")
    return {"secret": secret, "public": public, "incident": incident}


def bodies(service: ServiceProcess, gql: GraphQLClient, reviewed: dict[str, Any]) -> dict[str, str]:
    key = reviewed["incident"]["key"]
    found: dict[str, str] = {}
    with httpx.Client(base_url=service.url, timeout=30) as http:
        for path in [*PATHS, f"/status/incidents/{key}"]:
            response = http.get(path)
            assert response.status_code == 200, (path, response.status_code)
            found[path] = response.text
    found["statusPage"] = gql.post(status_page_query(), key=None).text
    found["publicIncident"] = gql.post(PUBLIC_INCIDENT, {"k": key}, key=None).text
    return found


def test_no_internal_text_of_a_public_postmortem_reaches_a_public_output(
    service: ServiceProcess, gql: GraphQLClient, reviewed: dict[str, Any]
) -> None:
    # The JSON API and feeds serve the page the change stream last marked stale: wait for it.
    found = wait_for(
        lambda: (
            (b := bodies(service, gql, reviewed))
            and "postmortem" in b["/api/v2/incidents.json"]
            and b
        )
    )
    assert [where for where, body in found.items() if reviewed["secret"] in body] == []
    key = reviewed["incident"]["key"]
    for where in ("statusPage", "publicIncident", f"/status/incidents/{key}"):
        body = found[where]
        assert all(f"{f} {reviewed['public']}" in body for f in ("summary", "impact", "fix")), where


def test_statuspage_api_reports_the_incident_as_postmortem(
    service: ServiceProcess, reviewed: dict[str, Any]
) -> None:
    key = reviewed["incident"]["key"]

    def listed() -> dict[str, Any] | None:
        with httpx.Client(base_url=service.url, timeout=30) as http:
            incidents = http.get("/api/v2/incidents.json").json()["incidents"]
        shown = [i for i in incidents if i["id"] == key and i["status"] == "postmortem"]
        return shown[0] if shown else None

    assert wait_for(listed)["resolved_at"] is not None
