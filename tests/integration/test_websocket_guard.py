"""Websocket limits on both subprotocols, and credentials that stop working on open sockets.

Each case reproduces a finding of the security review (issue 15): legacy
sockets without a timeout or a cap, operations and pings not rate limited,
a socket that outlived its token or its revoked key.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import service_env
from tests.support.api import INCIDENT_EVENTS, REVOKE_KEY, create_key, declare
from tests.support.polling import wait_for
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, Closed, WsClient

STATUS = "subscription { statusPage { overallStatus } }"
PROTOCOLS = [TRANSPORT_WS, LEGACY_WS]
ISSUER = "https://idp.example.test/realms/ops"
AUDIENCE = "incident-service"
SECRET = "hs256-shared-secret-for-websocket-tests-0123456789"
REVOKED = "Forbidden: the credential expired or was revoked"


def limited_service(mongo_uri: str, log_dir: Path, **limits: str) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(
        service_env(mongo_uri, f"test_wslimit_{uuid.uuid4().hex[:8]}", **limits),
        log_path=log_dir / "service.log",
    ).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def guarded(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    yield from limited_service(
        mongo_uri,
        tmp_path_factory.mktemp("wsguard"),
        WS_CONNECTION_INIT_TIMEOUT="1",
        WS_MESSAGES_PER_MINUTE="30",
        WS_MAX_CONNECTIONS_PER_IP="4",
        WS_CREDENTIAL_CHECK_SECONDS="1",
        OIDC_ISSUER=ISSUER,
        OIDC_AUDIENCE=AUDIENCE,
        OIDC_HS256_SECRET=SECRET,
        OIDC_ROLE_CLAIM="roles",
    )


@pytest.fixture(scope="module")
def per_ip(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A low per-IP request limit: socket openings count against it."""
    yield from limited_service(
        mongo_uri, tmp_path_factory.mktemp("wsip"), RATE_LIMIT_PER_IP="5/minute"
    )


@pytest.fixture(scope="module")
def per_key(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A low per-key request limit: websocket operations count against it."""
    yield from limited_service(
        mongo_uri, tmp_path_factory.mktemp("wskey"), RATE_LIMIT_PER_KEY="4/minute"
    )


def no_open_sockets(proc: ServiceProcess) -> None:
    """Sockets of earlier tests are gone on the server too (they count against the cap)."""

    def count() -> float:
        text = httpx.get(f"{proc.url}/metrics", timeout=30).text
        found = re.search(r"^incident_service_websockets_open ([0-9.e+]+)$", text, re.M)
        return float(found.group(1)) if found else 0.0

    wait_for(lambda: count() == 0, timeout=30, interval=0.1)


def close_of(client: WsClient) -> tuple[int | None, str | None]:
    closed = client.closed()
    return closed.code, closed.reason


def test_a_legacy_socket_without_connection_init_is_closed_in_time(
    guarded: ServiceProcess,
) -> None:
    with WsClient(guarded.ws_url, LEGACY_WS) as client:
        assert close_of(client) == (4408, "Connection initialisation timeout")


def test_a_second_connection_init_on_the_legacy_protocol_is_refused(
    guarded: ServiceProcess,
) -> None:
    with WsClient.initialised(guarded.ws_url, key=None, subprotocol=LEGACY_WS) as client:
        client.send({"type": "connection_init", "payload": {}})
        assert close_of(client) == (4429, "Too many initialisation requests")


@pytest.mark.parametrize("subprotocol", PROTOCOLS)
def test_one_ip_holds_a_bounded_number_of_sockets(
    guarded: ServiceProcess, subprotocol: str
) -> None:
    no_open_sockets(guarded)
    held = [WsClient.initialised(guarded.ws_url, key=None, subprotocol=subprotocol)]
    try:
        held += [WsClient(guarded.ws_url, subprotocol) for _ in range(3)]
        with WsClient(guarded.ws_url, subprotocol) as extra:
            assert close_of(extra) == (4429, "Too many open connections from this address")
        # The first still works: the cap refuses new sockets, it closes none.
        held[0].subscribe("s", STATUS)
        assert "statusPage" in held[0].next_data("s")
    finally:
        for client in held:
            client.close()


def test_opening_sockets_counts_against_the_ip_rate_limit(per_ip: ServiceProcess) -> None:
    """RATE_LIMIT_PER_IP=5/minute: each opening counts, so does each anonymous init."""
    codes = []
    for subprotocol in PROTOCOLS * 2:
        with WsClient(per_ip.ws_url, subprotocol) as client:
            try:
                client.send({"type": "connection_init", "payload": {}})
                client.recv()
                codes.append(None)
            except Closed as closed:
                codes.append(closed.code)
            except ConnectionClosed as closed:  # refused before the init was sent
                codes.append(closed.rcvd.code if closed.rcvd else None)
    assert codes[0] is None and codes[-1] == 4429, codes


@pytest.mark.parametrize(
    ("subprotocol", "frame"),
    [
        (TRANSPORT_WS, '{"type": "ping"}'),
        (LEGACY_WS, '{"type": "ka"}'),
        # The legacy protocol passes over frames that are not JSON: they still count.
        (LEGACY_WS, "x"),
    ],
    ids=["ping", "legacy-unknown-type", "legacy-not-json"],
)
def test_a_message_flood_closes_the_socket(
    guarded: ServiceProcess, subprotocol: str, frame: str
) -> None:
    with WsClient.initialised(guarded.ws_url, key=None, subprotocol=subprotocol) as client:
        for _ in range(40):
            try:
                client.send(frame)
            except Exception:
                break
        assert close_of(client) == (4429, "Too many messages: at most 30 a minute")


@pytest.mark.parametrize("subprotocol", PROTOCOLS)
def test_operations_count_against_the_callers_rate_limit(
    per_key: ServiceProcess, subprotocol: str, tag: str
) -> None:
    """RATE_LIMIT_PER_KEY=4/minute: connection_init and the operations share it."""
    secret, _ = create_key(GraphQLClient(per_key.url), f"{tag}-{subprotocol}", "RESPONDER")
    with WsClient.initialised(per_key.ws_url, key=secret, subprotocol=subprotocol) as client:
        for n in range(10):
            try:
                client.subscribe(f"s{n}", STATUS)
            except Exception:
                break
        closed = client.closed()
    assert closed.code == 4429 and (closed.reason or "").startswith("Rate limit exceeded")


@pytest.mark.parametrize("subprotocol", PROTOCOLS)
def test_a_revoked_key_closes_its_open_sockets(
    guarded: ServiceProcess, subprotocol: str, tag: str
) -> None:
    admin = GraphQLClient(guarded.url)
    secret, key = create_key(admin, f"{tag}-revoked-{subprotocol}", "RESPONDER")
    incident = declare(admin, "watched")
    with WsClient.initialised(guarded.ws_url, key=secret, subprotocol=subprotocol) as client:
        client.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"]})
        assert client.next_data("e")["incidentEvents"]["seq"] == 1
        revoked = admin(REVOKE_KEY, {"id": key["id"]})
        assert revoked["revokeApiKey"]["userErrors"] == []
        started = time.monotonic()
        closed = client.closed(timeout=15)
    assert (closed.code, closed.reason) == (
        4403,
        "Forbidden: the credential expired or was revoked",
    )
    assert time.monotonic() - started < 10  # WS_CREDENTIAL_CHECK_SECONDS=1, not minutes


def token(expires_in: float, **claims: Any) -> str:
    now = time.time()
    body = {"iss": ISSUER, "aud": AUDIENCE, "iat": int(now), "exp": int(now + expires_in)}
    return jwt.encode({**body, "sub": "u-1", "roles": ["responder"], **claims}, SECRET, "HS256")


@pytest.mark.parametrize("subprotocol", PROTOCOLS)
def test_a_socket_opened_with_a_token_closes_when_it_expires(
    guarded: ServiceProcess, subprotocol: str
) -> None:
    """A 3 s token: HTTP says 401 once it expires, and the socket no longer streams."""
    short = token(3, preferred_username="short-lived")
    incident = declare(GraphQLClient(guarded.url), "watched by a token")
    with WsClient.initialised(guarded.ws_url, key=short, subprotocol=subprotocol) as client:
        client.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"]})
        assert client.next_data("e")["incidentEvents"]["seq"] == 1
        closed = client.closed(timeout=15)
    assert (closed.code, closed.reason) == (
        4403,
        "Forbidden: the credential expired or was revoked",
    )


def test_the_admin_key_keeps_its_socket(guarded: ServiceProcess) -> None:
    """The credential check closes only what stopped being valid."""
    with WsClient.initialised(guarded.ws_url, key=ADMIN_KEY) as client:
        time.sleep(2.5)  # two checks at WS_CREDENTIAL_CHECK_SECONDS=1
        client.subscribe("s", STATUS)
        assert "statusPage" in client.next_data("s")
