"""The service answers over HTTP against the embedded database."""

from __future__ import annotations

import httpx

from tests.support.processes import GraphQLClient, ServiceProcess


def test_declare_and_read_back(gql: GraphQLClient, tag: str) -> None:
    data = gql(
        """mutation($input: DeclareIncidentInput!) {
             declareIncident(input: $input) {
               incident { id key status priority }
               userErrors { code }
             }
           }""",
        {
            "input": {
                "title": "Checkout is down",
                "impact": "HIGH",
                "urgency": "HIGH",
                "labels": [tag],
            }
        },
    )
    created = data["declareIncident"]["incident"]
    assert data["declareIncident"]["userErrors"] == []
    assert created["status"] == "TRIGGERED" and created["priority"] == "P1"
    assert created["key"].startswith("INC-")
    read = gql("query($key: String) { incident(key: $key) { id title } }", {"key": created["key"]})
    assert read["incident"] == {"id": created["id"], "title": "Checkout is down"}


def test_health_endpoints(service: ServiceProcess) -> None:
    assert httpx.get(f"{service.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{service.url}/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] is True
