"""An incident list's nested fields are loaded in batches: the database round trips of a
request do not grow with its page size.

Counted by the service itself (every command PyMongo sends for the operation, in
`incident_service_graphql_database_round_trips` on /metrics), for one document run
over pages of 2 and of 12 incidents.
"""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api import LINK, add_note, create_service, declare, mutate
from tests.support.processes import GraphQLClient, ServiceProcess

NESTED = """query %s($label: String!, $first: Int!) {
  incidents(filter: {label: $label}, first: $first) {
    edges { node {
      key
      services { name }
      roles { role user }
      timeline(first: 5) { edges { node { type actor actorName } } }
      links { kind incident { key } }
      parent { key }
      children { key }
    } }
  }
}"""


def round_trips(service: ServiceProcess, operation: str) -> tuple[float, float]:
    """(requests, round trips) the service counted for an operation name."""
    text = httpx.get(f"{service.url}/metrics", timeout=30).text
    found = {"_count": 0.0, "_sum": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("operation") == operation and sample.name.endswith(
                tuple(f"database_round_trips{s}" for s in found)
            ):
                found[sample.name[sample.name.rindex("_") :]] = sample.value
    return found["_count"], found["_sum"]


def test_round_trips_do_not_grow_with_the_page(service: ServiceProcess, gql: GraphQLClient) -> None:
    label = f"rt-{uuid.uuid4().hex[:8]}"
    component = create_service(gql, f"rt-db-{label}")
    major = declare(gql, f"major {label}", labels=[label], serviceIds=[component])
    for n in range(12):
        incident = declare(gql, f"{label} {n}", labels=[label], serviceIds=[component])
        add_note(gql, incident["id"], "looking")
        mutate(gql, LINK, id=major["id"], relatedId=incident["id"], kind="PARENT_OF")
    counted = {}
    for first in (2, 12):
        name = f"Nested_{label.replace('-', '_')}_{first}"
        data = gql(NESTED % name, {"label": label, "first": first})
        nodes = [e["node"] for e in data["incidents"]["edges"]]
        assert len(nodes) == first
        # Batched, each incident still gets its own: its timeline, its parent.
        for node in nodes:
            types = [e["node"]["type"] for e in node["timeline"]["edges"]]
            assert types[0] == "DECLARED" and "NOTE_ADDED" in types, types
            assert node["parent"] == {"key": major["key"]}
            assert node["services"] == [{"name": f"rt-db-{label}"}]
        requests, trips = round_trips(service, name)
        assert requests == 1
        counted[first] = trips
    assert counted[12] == counted[2], counted
    assert counted[2] <= 10, counted
