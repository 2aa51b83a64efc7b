"""/metrics and the JSON logs of a real service process.

One service process of its own (LOG_LEVEL=INFO, so access lines are
written), driven over HTTP and a websocket; then its /metrics and its log
file are read back.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import service_env
from tests.support.api import STATUS_PAGE_FIELDS, declare, post_update
from tests.support.metrics import samples, value
from tests.support.polling import wait_for
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess
from tests.support.websocket import WsClient

REQUEST_ID = "obs-test-" + uuid.uuid4().hex[:8]
# Looks like one of our API keys: must never appear in a log line verbatim.
LEAKY_KEY = "isk_" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def proc(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    log = Path(tmp_path_factory.mktemp("observability")) / "service.log"
    env = service_env(mongo_uri, f"obs_{uuid.uuid4().hex[:8]}", LOG_LEVEL="INFO", LOG_FORMAT="json")
    process = ServiceProcess(env, log_path=log)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_metrics_count_operations_errors_websockets_and_fan_out(proc: ServiceProcess) -> None:
    gql = GraphQLClient(proc.url)
    ns = "incident_service_"
    before = samples(proc.url)

    gql("query ListServices { services { id } }")
    bad = gql.post("query Broken { noSuchField }")
    assert bad.status_code == 400
    invalid = gql.post(
        "mutation Bad($i: CreateServiceInput!) { createService(input: $i) "
        "{ userErrors { code } } }",
        {"i": {"name": ""}},
    )
    user_errors = invalid.json()["data"]["createService"]["userErrors"]
    assert user_errors, invalid.text

    after = samples(proc.url)
    ops = f"{ns}graphql_operations_total"
    assert value(after, ops, operation="ListServices", type="query") == 1
    timed = f"{ns}graphql_operation_duration_seconds_count"
    assert value(after, timed, operation="ListServices", type="query") == 1
    assert value(after, ops, operation="Broken", type="query") == 1
    errors = f"{ns}graphql_errors_total"
    assert (
        value(after, errors, code="GRAPHQL_VALIDATION_FAILED")
        == value(before, errors, code="GRAPHQL_VALIDATION_FAILED") + 1
    )
    code = user_errors[0]["code"]
    assert value(after, f"{ns}graphql_user_errors_total", code=code) >= 1
    http = f"{ns}http_requests_total"
    assert value(after, http, route="/graphql", method="POST", status="400") >= 1

    # A live status page subscriber: open websocket, active subscription, fan-out.
    with WsClient.initialised(proc.ws_url, key=None) as ws:
        ws.subscribe("s", f"subscription StatusPage {{ statusPage {{ {STATUS_PAGE_FIELDS} }} }}")
        ws.next_data("s")
        live = samples(proc.url)
        assert value(live, f"{ns}websockets_open") == 1
        assert value(live, f"{ns}subscriptions_active", subscription="statusPage") == 1
        assert value(live, ops, operation="StatusPage", type="subscription") == 0  # still running

        fanned = value(live, f"{ns}events_fanned_out_total", feed="status_page")
        incident = declare(gql, "observability")
        post_update(gql, incident["id"], "we are looking into it", "PUBLIC")
        ws.next_data("s")
        wait_for(
            lambda: (
                value(samples(proc.url), f"{ns}events_fanned_out_total", feed="status_page")
                > fanned
            ),
            timeout=60,
            interval=0.1,
        )
        streamed = samples(proc.url)
        assert value(streamed, f"{ns}change_stream_events_total") >= 1
        assert value(streamed, f"{ns}change_stream_lag_seconds_count") >= 1

    wait_for(
        lambda: value(samples(proc.url), f"{ns}websockets_open") == 0, timeout=60, interval=0.1
    )
    closed = samples(proc.url)
    assert value(closed, f"{ns}subscriptions_active", subscription="statusPage") == 0
    assert value(closed, ops, operation="StatusPage", type="subscription") == 1
    assert value(closed, f"{ns}websocket_closes_total", code="1000") >= 1
    assert value(closed, f"{ns}draining") == 0


def test_client_chosen_operation_names_cannot_explode_the_series(proc: ServiceProcess) -> None:
    gql = GraphQLClient(proc.url)
    weird = "query " + "A" * 80 + " { services { id } }"
    gql(weird)
    metrics = samples(proc.url)
    names = {dict(labels).get("operation") for (_, labels) in metrics}
    assert "A" * 80 not in names
    ops = "incident_service_graphql_operations_total"
    assert value(metrics, ops, operation="other", type="query") >= 1


def test_anonymous_callers_cannot_take_the_operation_labels(proc: ServiceProcess) -> None:
    """Anyone may name an operation: anonymous names never become labels, so a flood of
    them leaves the label set for the shipped operations and signed-in callers."""
    anonymous = GraphQLClient(proc.url, key=None)
    for n in range(40):
        anonymous.post(f"query Flood{n} {{ statusPage {{ overallStatus }} }}")
    GraphQLClient(proc.url)("query FrontendOwnQuery { services { id } }")
    GraphQLClient(proc.url)("query Services { services { id } }")
    names = {dict(labels).get("operation") for (_, labels) in samples(proc.url)}
    assert not any(name and name.startswith("Flood") for name in names)
    assert {"FrontendOwnQuery", "Services"} <= names


def log_lines(proc: ServiceProcess) -> list[dict[str, Any]]:
    assert proc.log_path is not None
    lines = [ln for ln in proc.log_path.read_text().splitlines() if ln.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON log line: {line!r}")
    return parsed


def test_logs_are_json_with_the_request_id_and_no_secrets(proc: ServiceProcess) -> None:
    gql = GraphQLClient(proc.url)
    ok = gql.http.post(
        gql.url,
        json={"query": "query Traced { services { id } }"},
        headers={"authorization": f"Bearer {ADMIN_KEY}", "x-request-id": REQUEST_ID},
    )
    assert ok.status_code == 200 and ok.headers["x-request-id"] == REQUEST_ID
    # A rejected credential, and a key-shaped literal inside a failing query.
    assert gql.post("{ services { id } }", key=LEAKY_KEY).status_code == 401
    gql.post(f'{{ services(token: "{LEAKY_KEY}") {{ id }} }}')

    def traced() -> list[dict[str, Any]]:
        return [r for r in log_lines(proc) if r.get("request_id") == REQUEST_ID]

    wait_for(
        lambda: any(r.get("logger") == "uvicorn.access" for r in traced()), timeout=60, interval=0.1
    )
    (access,) = [r for r in traced() if r.get("logger") == "uvicorn.access"]
    assert access["method"] == "POST" and access["path"] == "/graphql"
    assert access["status"] == 200
    assert access["level"] == "INFO" and access["time"].endswith("Z")

    records = log_lines(proc)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    text = proc.log_path.read_text() if proc.log_path else ""
    assert ADMIN_KEY not in text
    assert LEAKY_KEY not in text


def test_client_errors_are_one_info_line_without_a_traceback(proc: ServiceProcess) -> None:
    """A 2 KB document of unknown directives once wrote 66 KB of ERROR tracebacks."""
    rid = "obs-flood-" + uuid.uuid4().hex[:8]
    flood = "{ __typename " + "@nope " * 300 + "}"
    answer = httpx.post(
        f"{proc.url}/graphql",
        json={"query": flood},
        headers={"accept": "application/graphql-response+json", "x-request-id": rid},
        timeout=30,
    )
    errors = answer.json()["errors"]
    assert answer.status_code == 400 and len(errors) > 50

    def about_the_flood() -> list[dict[str, Any]]:
        return [r for r in log_lines(proc) if r.get("request_id") == rid]

    wait_for(
        lambda: any(r.get("logger") == "uvicorn.access" for r in about_the_flood()),
        timeout=60,
        interval=0.1,
    )
    lines = [r for r in about_the_flood() if r.get("logger") != "uvicorn.access"]
    assert [r["level"] for r in lines] == ["INFO"], lines
    assert f"{len(errors)} client error(s)" in lines[0]["message"]
    assert "Traceback" not in json.dumps(lines)


def test_metrics_behind_a_bearer_token(mongo_uri: str, tmp_path: Path) -> None:
    token = "metrics-" + uuid.uuid4().hex
    env = service_env(mongo_uri, f"obs_token_{uuid.uuid4().hex[:8]}", METRICS_BEARER_TOKEN=token)
    proc = ServiceProcess(env, log_path=tmp_path / "service.log").start()
    try:
        anonymous = httpx.get(f"{proc.url}/metrics", timeout=30)
        assert anonymous.status_code == 401 and "incident_service_" not in anonymous.text
        wrong = httpx.get(
            f"{proc.url}/metrics", headers={"authorization": "Bearer nope"}, timeout=30
        )
        assert wrong.status_code == 401
        for scheme in ("Bearer", "bearer"):  # the scheme is case-insensitive (RFC 9110)
            scraper = httpx.get(
                f"{proc.url}/metrics", headers={"authorization": f"{scheme} {token}"}, timeout=30
            )
            assert scraper.status_code == 200 and "incident_service_" in scraper.text
    finally:
        proc.stop()
