"""Property-based fuzzing of the whole GraphQL surface, generated from the schema.

hypothesis-graphql builds valid queries and mutations (and, in a smaller
run, documents with one schema violation) from the SDL; each is sent with an
ADMIN key to a running service, one at a time. Whatever is generated, the
service must answer below 500, every error must carry an extensions.code and
read like a message for a person (no exception text), nothing may need
masking, and /healthz must still answer afterwards.

FUZZ_EXAMPLES (default 2000) and FUZZ_NEGATIVE_EXAMPLES (default 300) set the
run length; e.g. `FUZZ_EXAMPLES=50000 .venv/bin/pytest tests/integration/test_fuzz.py`.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from incident_service.api.schema import build_schema
from tests.support.processes import ADMIN_KEY, ServiceProcess

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
NEGATIVE_EXAMPLES = int(os.environ.get("FUZZ_NEGATIVE_EXAMPLES", "300"))

#: Text that only an exception (not a message written for a person) would contain.
LEAKS = re.compile(
    r"Traceback|File \"|Exception|Error\(|object has no attribute|NoneType|KeyError|"
    r"TypeError|ValueError|pymongo|bson|incident_service\.|site-packages"
)


@pytest.fixture(scope="module")
def fuzz_service(service: ServiceProcess) -> Iterator[ServiceProcess]:
    """Its own database, so generated data never meets other tests' data; no rate limit."""
    env = {
        **service.env,
        "MONGODB_DATABASE": f"fuzz_{uuid.uuid4().hex[:8]}",
        "RATE_LIMIT_PER_KEY": "",
        "RATE_LIMIT_PER_IP": "",
    }
    proc = ServiceProcess(env).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def http(fuzz_service: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=fuzz_service.url,
        headers={"authorization": f"Bearer {ADMIN_KEY}", "accept": "application/json"},
        timeout=60,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def known_ids(http: httpx.Client) -> list[str]:
    """Real incident and service ids, so mutations reach past "not found"."""
    ids = []
    for i in range(3):
        body = http.post(
            "/graphql",
            json={
                "query": "mutation($t: String!, $n: String!) {"
                " declareIncident(input: {title: $t}) { incident { id } }"
                " createService(input: {name: $n}) { service { id } } }",
                "variables": {"t": f"fuzz seed {i}", "n": f"fuzz-seed-{i}"},
            },
        ).json()
        ids += [
            body["data"]["declareIncident"]["incident"]["id"],
            body["data"]["createService"]["service"]["id"],
        ]
    return ids


def scalars(ids: list[str]) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
        "JSON": st.just(nodes.Object([])),
        "ID": (st.sampled_from(ids) | st.text(max_size=30)).map(nodes.String),
    }


def check(response: httpx.Response, document: str) -> None:
    assert response.status_code < 500, (document, response.text[:2000])
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code, (document, error)
        assert code != "INTERNAL_SERVER_ERROR", (document, error)
        assert not LEAKS.search(error["message"]), (document, error)


def fuzz(http: httpx.Client, ids: list[str], mode: Mode, examples: int) -> None:
    schema = build_schema().as_str()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(document=from_schema(schema, custom_scalars=scalars(ids), mode=mode))
    def run(document: str) -> None:
        check(http.post("/graphql", json={"query": document}), document)

    run()


def test_fuzz_valid_operations(
    http: httpx.Client, known_ids: list[str], fuzz_service: ServiceProcess
) -> None:
    fuzz(http, known_ids, Mode.POSITIVE, EXAMPLES)
    assert httpx.get(f"{fuzz_service.url}/healthz", timeout=30).status_code == 200


def test_fuzz_invalid_operations(
    http: httpx.Client, known_ids: list[str], fuzz_service: ServiceProcess
) -> None:
    fuzz(http, known_ids, Mode.NEGATIVE, NEGATIVE_EXAMPLES)
    assert httpx.get(f"{fuzz_service.url}/healthz", timeout=30).status_code == 200
