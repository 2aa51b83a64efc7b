"""One test per limit: each holds, and its error is clear (status and extensions.code)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from incident_service.embedded import EmbeddedMongo
from tests.support.api import create_integration, create_key, error_codes
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, WsClient, message_errors

ORIGIN = "https://status.example.com"


@pytest.fixture(scope="module")
def limited(service: ServiceProcess) -> Iterator[ServiceProcess]:
    """A service with small limits, on the session database."""
    env = {
        **service.env,
        "MAX_QUERY_DEPTH": "4",
        "MAX_ALIASES": "3",
        "MAX_TOKENS": "60",
        "MAX_BODY_BYTES": "2048",
        "WS_MAX_SUBSCRIPTIONS": "2",
        "WS_CONNECTION_INIT_TIMEOUT": "1",
        "CORS_ALLOW_ORIGINS": f"{ORIGIN}, https://other.example.com",
    }
    proc = ServiceProcess(env).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def client(limited: ServiceProcess) -> GraphQLClient:
    return GraphQLClient(limited.url)


def rejected(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body, body
    codes = error_codes(body)
    assert codes and set(codes) == {code}, body
    return str(body["errors"][0]["message"])


def test_depth(client: GraphQLClient) -> None:
    assert client("{ incidents(first: 1) { edges { node { services { name } } } } }")
    deep = "{ incidents(first: 1) { edges { node { timeline { edges { node { seq } } } } } } }"
    message = rejected(client.post(deep), 400, "QUERY_TOO_DEEP")
    assert message == "The query is too deep: the maximum depth is 4"


def test_a_refused_document_is_refused_the_same_way_every_time(client: GraphQLClient) -> None:
    # The second and third answers come from the document cache.
    deep = "{ incidents(first: 1) { edges { node { links { incident { id } } } } } }"
    answers = [client.post(deep) for _ in range(3)]
    assert {a.status_code for a in answers} == {400}
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert error_codes(answers[2].json()) == ["QUERY_TOO_DEEP"]


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
def test_websocket_operations_meet_the_same_limits(
    limited: ServiceProcess, client: GraphQLClient, subprotocol: str
) -> None:
    aliases = "{ a: me { name } b: me { name } c: me { name } d: me { name } }"
    tokens = "{ me { " + " ".join(["name"] * 60) + " } }"
    deep = "subscription { incidentChanged { links { incident { links { incident { id } } } } } }"
    expected = {
        deep: ("The query is too deep: the maximum depth is 4", "QUERY_TOO_DEEP"),
        "subscription { statusPage { a: overallStatus b: overallStatus c: overallStatus "
        "d: overallStatus } }": (
            rejected(client.post(aliases), 400, "TOO_MANY_ALIASES"),
            "TOO_MANY_ALIASES",
        ),
    }
    with WsClient.initialised(limited.ws_url, key=ADMIN_KEY, subprotocol=subprotocol) as conn:
        for n, (document, (message, code)) in enumerate(expected.items()):
            conn.subscribe(str(n), document)
            answer = conn.recv()
            while answer["type"] not in ("error", "next", "data"):
                answer = conn.recv()
            errors = message_errors(answer)
            assert [(e["message"], e["extensions"]["code"]) for e in errors] == [(message, code)], (
                answer
            )
        # A document past the token limit is not parsed at all: graphql-transport-ws
        # closes with 4400 and the reason (Strawberry's answer to a syntax error), the
        # legacy protocol answers with an error.
        too_long = "subscription { statusPage { " + " ".join(["overallStatus"] * 60) + " } }"
        message = rejected(client.post(tokens), 400, "TOO_MANY_TOKENS")
        conn.subscribe("tokens", too_long)
        if subprotocol == TRANSPORT_WS:
            closed = conn.closed()
            assert (closed.code, closed.reason) == (4400, message)
        else:
            [error] = message_errors(conn.recv())
            assert (error["message"], error["extensions"]["code"]) == (message, "TOO_MANY_TOKENS")


def test_a_query_over_the_legacy_protocol_is_refused_clearly(limited: ServiceProcess) -> None:
    with WsClient.initialised(limited.ws_url, key=ADMIN_KEY, subprotocol=LEGACY_WS) as conn:
        conn.subscribe("1", "{ me { name } }")
        answer = conn.recv()
        [error] = message_errors(answer)
        assert error["extensions"]["code"] == "OPERATION_NOT_SUPPORTED"
        assert "graphql-transport-ws" in error["message"]


def test_aliases(client: GraphQLClient) -> None:
    assert client("{ a: me { name } b: me { name } c: me { name } }")
    message = rejected(
        client.post("{ a: me { name } b: me { name } c: me { name } d: me { name } }"),
        400,
        "TOO_MANY_ALIASES",
    )
    assert "Allowed: 3" in message


def test_tokens(client: GraphQLClient) -> None:
    fields = " ".join(["name"] * 60)
    message = rejected(client.post(f"{{ me {{ {fields} }} }}"), 400, "TOO_MANY_TOKENS")
    assert "more than 60 tokens" in message


def test_body_size_by_content_length(limited: ServiceProcess) -> None:
    big = {"query": "{ statusPage { overallStatus } }", "variables": {"pad": "x" * 3000}}
    response = httpx.post(f"{limited.url}/graphql", json=big, timeout=30)
    rejected(response, 413, "REQUEST_TOO_LARGE")
    assert response.headers["x-request-id"]
    small = {"query": "{ statusPage { overallStatus } }", "variables": {"pad": "x" * 1500}}
    assert httpx.post(f"{limited.url}/graphql", json=small, timeout=30).status_code == 200


def test_body_size_of_a_chunked_body(limited: ServiceProcess) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ statusPage { overallStatus } }", "variables": {"pad": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}}'

    response = httpx.post(
        f"{limited.url}/graphql",
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert "content-length" not in response.request.headers
    rejected(response, 413, "REQUEST_TOO_LARGE")


def test_batching_is_off(client: GraphQLClient) -> None:
    response = client.http.post(
        client.url,
        json=[{"query": "{ me { name } }"}, {"query": "{ me { name } }"}],
        headers={"authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert response.status_code == 400
    assert "batching is off" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
def test_subscriptions_per_connection(limited: ServiceProcess, subprotocol: str) -> None:
    document = "subscription { statusPage { overallStatus } }"
    with WsClient.initialised(limited.ws_url, key=None, subprotocol=subprotocol) as conn:
        for op_id in ("1", "2", "3"):
            conn.subscribe(op_id, document)
        refused = None
        while refused is None:
            message = conn.recv()
            if message["type"] in ("error",):
                refused = message
        assert refused["id"] == "3"
        assert message_errors(refused)[0]["message"] == "Subscription limit reached"


def test_connection_init_timeout(limited: ServiceProcess) -> None:
    with WsClient(limited.ws_url) as conn:
        assert conn.closed().code == 4408


def test_get_never_runs_mutations(limited: ServiceProcess, client: GraphQLClient) -> None:
    name = f"via-get-{uuid.uuid4().hex[:8]}"
    mutation = (
        f'mutation {{ createService(input: {{name: "{name}"}}) {{ userErrors {{ code }} }} }}'
    )
    response = httpx.get(
        f"{limited.url}/graphql",
        params={"query": mutation},
        headers={"authorization": f"Bearer {ADMIN_KEY}", "accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 405
    assert "mutations are not allowed" in response.json()["errors"][0]["message"].lower()
    assert name not in str(client("{ services { name } }"))
    # Queries over GET work.
    query = httpx.get(
        f"{limited.url}/graphql",
        params={"query": "{ statusPage { overallStatus } }"},
        headers={"accept": "application/json"},
        timeout=30,
    )
    assert query.status_code == 200 and query.json()["data"]["statusPage"]


def test_cors_allow_list(limited: ServiceProcess) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(
            f"{limited.url}/graphql",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
            timeout=30,
        )

    allowed = preflight(ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    refused = preflight("https://evil.example.net")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    actual = httpx.post(
        f"{limited.url}/graphql",
        json={"query": "{ statusPage { overallStatus } }"},
        headers={"origin": ORIGIN},
        timeout=30,
    )
    assert actual.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in actual.headers["access-control-expose-headers"].lower()
    other = httpx.post(
        f"{limited.url}/graphql",
        json={"query": "{ statusPage { overallStatus } }"},
        headers={"origin": "https://evil.example.net"},
        timeout=30,
    )
    assert "access-control-allow-origin" not in other.headers


# --- rate limits ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def rate_limited(service: ServiceProcess) -> Iterator[ServiceProcess]:
    env = {
        **service.env,
        "RATE_LIMIT_PER_KEY": "5/minute",
        "RATE_LIMIT_PER_IP": "3/minute",
        "INTEGRATION_RATE_LIMIT": "4/minute",
    }
    proc = ServiceProcess(env).start()
    try:
        yield proc
    finally:
        proc.stop()


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert error_codes(response.json()) == ["RATE_LIMITED"]
    assert "Rate limit exceeded" in response.json()["errors"][0]["message"]


def test_rate_limit_per_key(rate_limited: ServiceProcess, gql: GraphQLClient, tag: str) -> None:
    first, _ = create_key(gql, f"rl-1-{tag}", "VIEWER")
    second, _ = create_key(gql, f"rl-2-{tag}", "VIEWER")
    client = GraphQLClient(rate_limited.url)
    for _ in range(5):
        assert client.post("{ me { name } }", key=first).status_code == 200
    assert_rate_limited(client.post("{ me { name } }", key=first))
    # Another key is counted on its own.
    assert client.post("{ me { name } }", key=second).status_code == 200


def test_rate_limit_per_ip(rate_limited: ServiceProcess) -> None:
    url = f"{rate_limited.url}/graphql"
    query = {"query": "{ statusPage { overallStatus } }"}
    # uvicorn trusts X-Forwarded-For from loopback, so each test IP is its own client.
    ip = {"x-forwarded-for": "203.0.113.7"}
    for _ in range(3):
        assert httpx.post(url, json=query, headers=ip, timeout=30).status_code == 200
    assert_rate_limited(httpx.post(url, json=query, headers=ip, timeout=30))
    assert httpx.post(url, json=query, headers={"x-forwarded-for": "203.0.113.8"}).is_success
    # Guessing keys counts against the IP too.
    guesser = {"x-forwarded-for": "203.0.113.9", "authorization": "Bearer isk_guess"}
    statuses = [httpx.post(url, json=query, headers=guesser).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_rate_limit_per_integration(rate_limited: ServiceProcess, gql: GraphQLClient) -> None:
    noisy, _ = create_integration(gql, f"noisy-{uuid.uuid4().hex[:8]}")
    quiet, _ = create_integration(gql, f"quiet-{uuid.uuid4().hex[:8]}")
    url = f"{rate_limited.url}/integrations/events/v2/enqueue"

    def send(key: str) -> httpx.Response:
        event = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": "flapping",
            "payload": {"summary": "Flapping", "source": "x", "severity": "info"},
        }
        return httpx.post(url, json=event, timeout=30)

    assert [send(noisy).status_code for _ in range(4)] == [202] * 4
    throttled = send(noisy)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    assert throttled.json()["status"] == "throttle event"
    # A storm from one source does not starve another.
    assert send(quiet).status_code == 202


def test_rate_limit_on_websocket_connections(rate_limited: ServiceProcess) -> None:
    """RATE_LIMIT_PER_IP=3/minute: opening a socket counts, and so does its anonymous
    connection_init (docs/limits.md)."""
    headers = {"x-forwarded-for": "203.0.113.20"}
    with WsClient(rate_limited.ws_url, additional_headers=headers) as conn:
        conn.init(None)  # 2 of 3
    with WsClient(rate_limited.ws_url, additional_headers=headers) as conn:
        conn.send('{"type": "connection_init"}')  # opened: 3 of 3; the init is refused
        assert conn.closed().code == 4403
    with WsClient(rate_limited.ws_url, additional_headers=headers) as conn:
        closed = conn.closed()  # refused at the opening
        assert closed.code == 4429 and (closed.reason or "").startswith("Rate limit exceeded")


# --- production profile: no introspection, no suggestions --------------------------------


@pytest.fixture(scope="module")
def production(service: ServiceProcess) -> Iterator[ServiceProcess]:
    proc = ServiceProcess({**service.env, "APP_PROFILE": "production"}).start()
    try:
        yield proc
    finally:
        proc.stop()


INTROSPECT = "{ __schema { types { name } } }"
TYPO = "{ statusPag { overallStatus } }"


def test_introspection_off_in_production(production: ServiceProcess, gql: GraphQLClient) -> None:
    prod = GraphQLClient(production.url)
    message = rejected(prod.post(INTROSPECT), 400, "INTROSPECTION_DISABLED")
    assert "introspection has been disabled" in message
    assert rejected(
        prod.post('{ __type(name: "Incident") { name } }'), 400, "INTROSPECTION_DISABLED"
    )
    assert prod("{ __typename }") == {"__typename": "Query"}
    # On in development.
    assert gql(INTROSPECT)["__schema"]["types"]


def test_field_suggestions_off_in_production(
    production: ServiceProcess, gql: GraphQLClient
) -> None:
    prod = GraphQLClient(production.url)
    message = rejected(prod.post(TYPO), 400, "GRAPHQL_VALIDATION_FAILED")
    assert "statusPag" in message and "Did you mean" not in message and "statusPage" not in message
    enum_typo = (
        'mutation { declareIncident(input: {title: "x", impact: HIGHH}) { userErrors { code } } }'
    )
    message = rejected(prod.post(enum_typo), 400, "GRAPHQL_VALIDATION_FAILED")
    assert "HIGHH" in message and "Did you mean" not in message
    dev = gql.post(TYPO).json()["errors"][0]["message"]
    assert "Did you mean 'statusPage'?" in dev


def test_introspection_setting_overrides_the_profile(service: ServiceProcess) -> None:
    env = {**service.env, "APP_PROFILE": "production", "INTROSPECTION": "true"}
    proc = ServiceProcess(env).start()
    try:
        assert GraphQLClient(proc.url)(INTROSPECT)["__schema"]["types"]
    finally:
        proc.stop()


# --- unexpected errors: masked, logged, with a request id --------------------------------


def test_unexpected_errors_are_masked_with_a_request_id(tmp_path: Path) -> None:
    db = EmbeddedMongo(tmp_path / "db")
    db.start(timeout=60)
    log = tmp_path / "service.log"
    proc = ServiceProcess(
        {"MONGODB_URI": db.uri, "ADMIN_API_KEY": ADMIN_KEY, "LOG_LEVEL": "WARNING"},
        log_path=log,
    ).start()
    try:
        client = GraphQLClient(proc.url)
        assert client("{ services { name } }") == {"services": []}
        db.stop()  # the database goes away: reads now fail unexpectedly
        response = client.http.post(
            client.url,
            json={"query": "{ services { name } }"},
            headers={"x-request-id": "req-abc-123", **client.headers(ADMIN_KEY)},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["errors"] == [
            {
                "message": "Unexpected error.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["services"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-abc-123"},
            }
        ]
        assert response.headers["x-request-id"] == "req-abc-123"
        # A fresh id when the client sends none (or an unsafe one).
        other = client.http.post(
            client.url,
            json={"query": "{ services { name } }"},
            headers={"x-request-id": "bad id", **client.headers(ADMIN_KEY)},
        )
        rid = other.json()["errors"][0]["extensions"]["requestId"]
        assert rid == other.headers["x-request-id"] and rid != "req-abc-123" and " " not in rid
        logged = log.read_text(errors="replace")
        assert "req-abc-123" in logged and "ServerSelectionTimeoutError" in logged
        assert httpx.get(f"{proc.url}/healthz", timeout=30).status_code == 200
    finally:
        proc.stop()
        db.stop()
