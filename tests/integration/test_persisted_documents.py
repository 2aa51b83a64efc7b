"""Persisted documents: a hash instead of the text, over POST, GET and both websocket
protocols; automatic registration; and trusted-documents-only mode.

The hashes are computed here, with hashlib, from the files in schema/operations/,
as a client's build step would.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import service_env
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, WsClient

OPERATIONS = Path(__file__).resolve().parents[2] / "schema" / "operations"
SERVICES = (OPERATIONS / "Services.graphql").read_text()
STATUS_PAGE = (OPERATIONS / "StatusPage.graphql").read_text()
PUBLIC_INCIDENT = (OPERATIONS / "PublicIncident.graphql").read_text()
JSON_MEDIA = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def post(
    service: ServiceProcess,
    body: dict[str, Any],
    accept: str = JSON_MEDIA,
    key: str | None = ADMIN_KEY,
) -> httpx.Response:
    headers = {"accept": accept, **({"authorization": f"Bearer {key}"} if key else {})}
    return httpx.post(f"{service.url}/graphql", json=body, headers=headers, timeout=30)


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


def test_a_shipped_operation_runs_by_its_hash(service: ServiceProcess, gql: GraphQLClient) -> None:
    by_text = gql(SERVICES)
    answer = post(service, {"extensions": persisted(sha(SERVICES))})
    assert answer.status_code == 200 and answer.json()["data"] == by_text


def test_an_unknown_hash_is_registered_by_sending_the_text_once(service: ServiceProcess) -> None:
    text = f"query Mine {{ me {{ name }} }} # {uuid.uuid4().hex}"
    unknown = post(service, {"extensions": persisted(sha(text))})
    # Apollo clients read this answer and send the text with the hash.
    assert unknown.status_code == 200 and codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    strict = post(service, {"extensions": persisted(sha(text))}, accept=GRAPHQL_RESPONSE)
    assert strict.status_code == 400 and codes(strict) == ["PERSISTED_QUERY_NOT_FOUND"]
    registered = post(service, {"query": text, "extensions": persisted(sha(text))})
    assert registered.json() == {"data": {"me": {"name": "admin"}}, **_cost(registered)}
    again = post(service, {"extensions": persisted(sha(text))})
    assert again.json()["data"] == {"me": {"name": "admin"}}


def _cost(response: httpx.Response) -> dict[str, Any]:
    return {"extensions": response.json()["extensions"]}


@pytest.mark.parametrize(
    ("extensions", "problem"),
    [
        ({"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}, "not the SHA-256"),
        ({"persistedQuery": {"version": 2, "sha256Hash": sha(SERVICES)}}, "version"),
        ({"persistedQuery": {"version": 1, "sha256Hash": "ABC"}}, "64 lowercase hex"),
        ({"persistedQuery": "yes"}, "must be an object"),
    ],
)
def test_a_malformed_persisted_query_is_a_bad_request(
    service: ServiceProcess, extensions: dict[str, Any], problem: str
) -> None:
    answer = post(service, {"query": SERVICES, "extensions": extensions})
    assert answer.status_code == 400 and codes(answer) == ["BAD_REQUEST"]
    assert problem in answer.json()["errors"][0]["message"]


def test_get_with_a_hash_is_cacheable_when_anonymous(service: ServiceProcess) -> None:
    params = {
        "extensions": json.dumps(persisted(sha(PUBLIC_INCIDENT))),
        "variables": json.dumps({"key": "INC-999999"}),
    }
    public = httpx.get(f"{service.url}/graphql", params=params, headers={"accept": JSON_MEDIA})
    assert public.status_code == 200 and public.json()["data"] == {"publicIncident": None}
    assert public.headers["cache-control"] == "public, max-age=10"
    assert "Authorization" in public.headers["vary"]
    signed_in = httpx.get(
        f"{service.url}/graphql",
        params=params,
        headers={"accept": JSON_MEDIA, "authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert (
        signed_in.status_code == 200 and signed_in.headers["cache-control"] == "private, no-store"
    )
    unknown = httpx.get(
        f"{service.url}/graphql",
        params={"extensions": json.dumps(persisted("1" * 64))},
        headers={"accept": JSON_MEDIA},
    )
    assert codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert unknown.headers["cache-control"] == "no-store"


def _subscribe_by_hash(client: WsClient, op_id: str, digest: str) -> None:
    kind = "subscribe" if client.subprotocol == TRANSPORT_WS else "start"
    client.send({"id": op_id, "type": kind, "payload": {"extensions": persisted(digest)}})


def _error_codes(message: dict[str, Any]) -> list[str]:
    payload = message["payload"]
    return [e["extensions"]["code"] for e in (payload if isinstance(payload, list) else [payload])]


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
def test_websocket_operations_by_hash(service: ServiceProcess, subprotocol: str) -> None:
    with WsClient.initialised(service.ws_url, key=None, subprotocol=subprotocol) as client:
        _subscribe_by_hash(client, "unknown", "2" * 64)
        refused = client.recv()
        assert (refused["id"], refused["type"]) == ("unknown", "error")
        assert _error_codes(refused) == ["PERSISTED_QUERY_NOT_FOUND"]
        # The socket stays open for the next operation.
        _subscribe_by_hash(client, "page", sha(STATUS_PAGE))
        assert "overallStatus" in client.next_data("page")["statusPage"]


@pytest.fixture(scope="module")
def trusted(mongo_uri: str) -> Iterator[ServiceProcess]:
    env = service_env(mongo_uri, f"trusted_{uuid.uuid4().hex[:8]}", TRUSTED_DOCUMENTS_ONLY="true")
    proc = ServiceProcess(env).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_trusted_mode_runs_only_the_manifests_documents(trusted: ServiceProcess) -> None:
    assert "services" in post(trusted, {"extensions": persisted(sha(SERVICES))}).json()["data"]
    # The same document sent in full is one of the service's own.
    assert "services" in post(trusted, {"query": SERVICES}).json()["data"]
    other = "{ services { id } }"
    for body in ({"query": other}, {"query": other, "extensions": persisted(sha(other))}):
        refused = post(trusted, body)
        assert codes(refused) == ["TRUSTED_DOCUMENT_REQUIRED"] and "data" not in refused.json()
    never_registered = post(trusted, {"extensions": persisted(sha(other))})
    assert codes(never_registered) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
def test_trusted_mode_over_websockets(trusted: ServiceProcess, subprotocol: str) -> None:
    with WsClient.initialised(trusted.ws_url, key=None, subprotocol=subprotocol) as client:
        client.subscribe("own", "subscription { statusPage { overallStatus } }")
        refused = client.recv()
        assert refused["type"] == "error"
        assert _error_codes(refused) == ["TRUSTED_DOCUMENT_REQUIRED"]
        _subscribe_by_hash(client, "page", sha(STATUS_PAGE))
        assert "overallStatus" in client.next_data("page")["statusPage"]
