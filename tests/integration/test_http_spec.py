"""GraphQL over HTTP: media types, status codes and error shapes (the SHOULDs included)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess

GRAPHQL_RESPONSE = "application/graphql-response+json"
AUTH = {"authorization": f"Bearer {ADMIN_KEY}"}
QUERY = "query { incidents(first: 1) { totalCount } }"


def post(service: ServiceProcess, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(f"{service.url}/graphql", json=body, headers={**AUTH, **headers}, timeout=30)


def media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


@pytest.mark.parametrize(
    "accept",
    [
        GRAPHQL_RESPONSE,
        f"{GRAPHQL_RESPONSE}, application/json;q=0.9",
        "application/json;q=0.9, application/graphql-response+json",
    ],
)
def test_graphql_response_media_type_when_accepted(
    service: ServiceProcess, accept: str | None
) -> None:
    headers = {"accept": accept} if accept else {}
    response = post(service, {"query": QUERY}, **headers)
    assert response.status_code == 200
    assert media(response) == GRAPHQL_RESPONSE
    assert response.headers["content-type"].endswith("charset=utf-8")
    assert isinstance(response.json()["data"]["incidents"]["totalCount"], int)


@pytest.mark.parametrize("accept", [None, "*/*", "application/*"])
def test_no_accept_or_a_wildcard_gets_json(service: ServiceProcess, accept: str | None) -> None:
    """GraphQL over HTTP (graphql-http audit 47DE, 80D8): a client that names no type
    gets application/json, the type every client reads."""
    request = httpx.Request("POST", f"{service.url}/graphql", json={"query": QUERY}, headers=AUTH)
    if accept is None:
        assert "accept" not in request.headers  # sent without one
    else:
        request.headers["accept"] = accept
    with httpx.Client(timeout=30) as client:
        response = client.send(request)
    assert response.status_code == 200
    assert media(response) == "application/json"
    assert isinstance(response.json()["data"]["incidents"]["totalCount"], int)


def test_legacy_json_client(service: ServiceProcess) -> None:
    ok = post(service, {"query": QUERY}, accept="application/json")
    assert ok.status_code == 200 and media(ok) == "application/json"
    # With application/json a request error is still 200 (the spec's legacy rule), no data.
    bad = post(service, {"query": "{ nope }"}, accept="application/json")
    assert bad.status_code == 200 and media(bad) == "application/json"
    assert "data" not in bad.json() and bad.json()["errors"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": "{ incidents { "}, "Syntax Error"),
        ({"query": "{ nope }"}, "Cannot query field"),
        ({"query": "query($n: Int!) { incidents(first: $n) { totalCount } }"}, "$n"),
        (
            {
                "query": "query($n: Int!) { incidents(first: $n) { totalCount } }",
                "variables": {"n": "x"},
            },
            "$n",
        ),
        ({"query": QUERY, "operationName": "Missing"}, "Missing"),
        ({"query": 42}, "query"),
        ({"query": QUERY, "variables": [1]}, "variables"),
        ({}, "No GraphQL query"),
    ],
    ids=[
        "parse",
        "validate",
        "missing-var",
        "coerce",
        "operation-name",
        "query-type",
        "vars",
        "no-query",
    ],
)
def test_request_errors_are_400_without_data(
    service: ServiceProcess, body: dict[str, Any], message: str
) -> None:
    response = post(service, body, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert "data" not in payload
    assert message in payload["errors"][0]["message"]


TWO_OPERATIONS = "query A { services { id } } query B { incidents(first: 0) { totalCount } }"


def test_several_operations_need_an_operation_name(service: ServiceProcess) -> None:
    refused = post(service, {"query": TWO_OPERATIONS})
    assert refused.status_code == 400
    assert "operationName" in refused.json()["errors"][0]["message"]
    assert "data" not in refused.json()
    chosen = post(service, {"query": TWO_OPERATIONS, "operationName": "B"})
    assert chosen.status_code == 200
    assert set(chosen.json()["data"]) == {"incidents"}
    # One operation plus fragments, or a field named like a keyword, is fine.
    single = post(
        service,
        {"query": "query Q { ...F } fragment F on Query { services { id } }"},
    )
    assert single.status_code == 200 and "services" in single.json()["data"]


def test_field_errors_keep_data_and_200(service: ServiceProcess) -> None:
    response = post(service, {"query": '{ incident(id: "nope") { id } }'})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"incident": None}
    assert body["errors"][0]["path"] == ["incident"]


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "text/plain, image/png"])
def test_not_acceptable_is_406(service: ServiceProcess, accept: str) -> None:
    response = post(service, {"query": QUERY}, accept=accept)
    assert response.status_code == 406
    assert GRAPHQL_RESPONSE in response.json()["errors"][0]["message"]


def test_non_json_body_is_415(service: ServiceProcess) -> None:
    response = httpx.post(
        f"{service.url}/graphql",
        content=QUERY,
        headers={**AUTH, "content-type": "application/graphql"},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["message"].startswith("Unsupported content type")


def test_json_with_charset_is_fine(service: ServiceProcess) -> None:
    response = httpx.post(
        f"{service.url}/graphql",
        content=b'{"query": "{ incidents(first: 0) { totalCount } }"}',
        headers={**AUTH, "content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200 and "totalCount" in response.text


def test_invalid_credentials_are_401(service: ServiceProcess) -> None:
    for header in ("Bearer not-the-key", "Bearer", "Basic dXNlcjpwYXNz"):
        response = httpx.post(
            f"{service.url}/graphql", json={"query": QUERY}, headers={"authorization": header}
        )
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_anonymous_gets_unauthenticated_error_not_data(service: ServiceProcess) -> None:
    response = httpx.post(f"{service.url}/graphql", json={"query": QUERY})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_get_runs_queries_but_not_mutations(service: ServiceProcess) -> None:
    query = httpx.get(
        f"{service.url}/graphql",
        params={"query": QUERY},
        headers={**AUTH, "accept": GRAPHQL_RESPONSE},
    )
    assert query.status_code == 200 and media(query) == GRAPHQL_RESPONSE
    mutation = httpx.get(
        f"{service.url}/graphql",
        params={
            "query": 'mutation { addNote(input: {id: "x", body: "b"}) { userErrors { code } } }'
        },
        headers=AUTH,
    )
    assert mutation.status_code == 405
    assert mutation.headers["allow"] == "POST"


def test_graphiql_in_a_browser(service: ServiceProcess) -> None:
    for accept in ("text/html", "text/html,application/xhtml+xml,*/*;q=0.8"):
        response = httpx.get(f"{service.url}/graphql", headers={"accept": accept})
        assert response.status_code == 200, accept
        assert response.headers["content-type"].startswith("text/html")
        assert "graphiql" in response.text.lower()


def test_other_methods_are_405(service: ServiceProcess) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = httpx.request(method, f"{service.url}/graphql", json={"query": QUERY})
        assert response.status_code == 405, method


def test_no_stack_trace_on_garbage(gql: GraphQLClient) -> None:
    for body in (b"{" * 10_000, b'{"query": "' + b"{a" * 5000 + b'"}'):
        response = gql.http.post(
            gql.url, content=body, headers={**AUTH, "content-type": "application/json"}
        )
        assert 400 <= response.status_code < 500, response.text[:200]
        assert "Traceback" not in response.text
