"""Signed webhooks end to end: a real receiver, signatures checked by `standardwebhooks`,
retries, disabling, the delivery log, and receivers that misbehave."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from standardwebhooks import Webhook, WebhookVerificationError

from incident_service.store.listeners import COUNTER, FIELD
from tests.conftest import service_env
from tests.support.api import create_service, declare, mutate, post_update
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.receiver import Receiver, receiving

ENDPOINT = "id url enabled disabledReason consecutiveFailures eventTypes serviceIds format"
CREATE = f"""mutation($input: CreateWebhookEndpointInput!) {{
  createWebhookEndpoint(input: $input) {{
    endpoint {{ {ENDPOINT} }} secret userErrors {{ field code message }}
  }}
}}"""
UPDATE = f"""mutation($input: UpdateWebhookEndpointInput!) {{
  updateWebhookEndpoint(input: $input) {{
    endpoint {{ {ENDPOINT} }} userErrors {{ field code message }}
  }}
}}"""
ENDPOINTS = f"{{ webhookEndpoints {{ {ENDPOINT} }} }}"
DELIVERIES = """query($id: ID!, $status: [DeliveryStatus!]) {
  webhookDeliveries(endpointId: $id, filter: {status: $status}, first: 100) {
    edges { node { id messageId eventType status attempts lastResponseCode lastLatencyMs
                   lastError nextAttemptAt deliveredAt history { responseCode error } } }
  }
}"""
TRANSITION = """mutation($input: TransitionIncidentInput!) {
  transitionIncident(input: $input) { incident { status } userErrors { code message } }
}"""
ALL_INCIDENT_EVENTS = [
    "incident.declared",
    "incident.status_changed",
    "incident.updated",
    "incident.update_posted",
    "incident.resolved",
]


@pytest.fixture(scope="module")
def hooks_service(
    mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """Retries in fractions of a second, so a whole retry schedule fits in a test."""
    env = service_env(
        mongo_uri,
        f"hooks_{uuid.uuid4().hex[:8]}",
        WEBHOOK_RETRY_SCHEDULE="0.2,0.2",
        WEBHOOK_MAX_FAILURES="2",
        WEBHOOK_TIMEOUT_SECONDS="1",
        JOBS_POLL_INTERVAL="0.2",
    )
    log = Path(tmp_path_factory.mktemp("hooks")) / "service.log"
    proc = ServiceProcess(env, log_path=log).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def api(hooks_service: ServiceProcess) -> GraphQLClient:
    return GraphQLClient(hooks_service.url)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def path() -> str:
    return f"/{uuid.uuid4().hex[:10]}"


def create(api: GraphQLClient, url: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("eventTypes", ALL_INCIDENT_EVENTS)
    result = mutate(api, CREATE, url=url, **fields)
    assert result["userErrors"] == [], result
    assert result["secret"].startswith("whsec_")
    return {**result["endpoint"], "secret": result["secret"]}


def deliveries(api: GraphQLClient, endpoint_id: str, **kw: Any) -> list[dict[str, Any]]:
    data = api(DELIVERIES, {"id": endpoint_id, **kw})
    return [e["node"] for e in data["webhookDeliveries"]["edges"]]


def endpoint(api: GraphQLClient, endpoint_id: str) -> dict[str, Any]:
    found = [e for e in api(ENDPOINTS)["webhookEndpoints"] if e["id"] == endpoint_id]
    assert found, endpoint_id
    return found[0]


def transition(api: GraphQLClient, incident_id: str, to: str, **kw: Any) -> None:
    result = mutate(api, TRANSITION, id=incident_id, to=to, **kw)
    assert result["userErrors"] == [], result


# --- delivery and signatures -------------------------------------------------------


def test_the_life_of_an_incident_arrives_signed_in_order(
    api: GraphQLClient, receiver: Receiver
) -> None:
    hook = path()
    created = create(api, receiver.url(hook))
    incident = declare(api, title="Checkout is down", impact="HIGH", urgency="HIGH")
    transition(api, incident["id"], "INVESTIGATING")
    post_update(api, incident["id"], "We are looking into it", "PUBLIC")
    transition(api, incident["id"], "RESOLVED", resolution="Rolled back")

    # Seven messages: the update and the resolution each change the incident too.
    wait_for(lambda: len(receiver.at(hook)) >= 7, 20)
    payloads = [r.verified(created["secret"]) for r in receiver.at(hook)]
    types = [p["type"] for p in payloads]
    assert types.count("incident.declared") == 1
    assert types.count("incident.status_changed") == 2
    assert types.count("incident.update_posted") == 1
    assert types.count("incident.resolved") == 1
    assert types.count("incident.updated") == 2  # the public update, the resolution
    declared = next(p for p in payloads if p["type"] == "incident.declared")
    assert declared["data"]["incident"]["key"] == incident["key"]
    assert declared["data"]["incident"]["priority"] == "P1"
    update = next(p for p in payloads if p["type"] == "incident.update_posted")
    assert update["data"]["update"] == {
        **update["data"]["update"],
        "body": "We are looking into it",
        "visibility": "PUBLIC",
    }
    ids = [r.headers["webhook-id"] for r in receiver.at(hook)]
    assert len(set(ids)) == len(ids)
    # The log says the same: each delivered once, at the first attempt. A
    # first attempt is sent before its delivery is written, so the log can
    # trail the receiver by a moment.
    wait_for(lambda: {d["messageId"] for d in deliveries(api, created["id"])} == set(ids), 10)
    log = deliveries(api, created["id"])
    assert {d["status"] for d in log} == {"SUCCEEDED"}
    assert len(log) == len(ids)
    assert all(d["attempts"] == 1 and d["lastResponseCode"] == 200 for d in log)


def test_a_tampered_body_or_another_secret_does_not_verify(
    api: GraphQLClient, receiver: Receiver
) -> None:
    hook = path()
    created = create(api, receiver.url(hook), eventTypes=["incident.declared"])
    declare(api, title="Signature check")
    wait_for(lambda: receiver.at(hook), 20)
    received = receiver.at(hook)[0]
    received.verified(created["secret"])
    with pytest.raises(WebhookVerificationError):
        Webhook(created["secret"]).verify(received.body + b" ", received.headers)
    other = create(api, receiver.url(path()), eventTypes=["incident.declared"])["secret"]
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(received.body, received.headers)


def test_endpoints_get_only_their_event_types_and_services(
    api: GraphQLClient, receiver: Receiver
) -> None:
    mine = create_service(api, f"hooked-{uuid.uuid4().hex[:6]}")
    other = create_service(api, f"not-hooked-{uuid.uuid4().hex[:6]}")
    hook = path()
    created = create(
        api,
        receiver.url(hook),
        eventTypes=["incident.declared", "component.status_changed"],
        serviceIds=[mine],
    )
    declare(api, title="Elsewhere", serviceIds=[other])
    ours = declare(
        api,
        title="Ours",
        componentImpacts=[{"serviceId": mine, "status": "MAJOR_OUTAGE"}],
    )
    wait_for(lambda: len(receiver.at(hook)) >= 2, 20)
    time.sleep(0.5)  # anything else would have arrived by now
    payloads = [r.verified(created["secret"]) for r in receiver.at(hook)]
    assert sorted(p["type"] for p in payloads) == ["component.status_changed", "incident.declared"]
    declared = next(p for p in payloads if p["type"] == "incident.declared")
    assert declared["data"]["incident"]["key"] == ours["key"]
    component = next(p for p in payloads if p["type"] == "component.status_changed")
    assert component["data"]["component"] == {
        **component["data"]["component"],
        "id": mine,
        "status": "MAJOR_OUTAGE",
        "previousStatus": "OPERATIONAL",
    }


def test_slack_format_is_an_incoming_webhook_message(
    api: GraphQLClient, receiver: Receiver
) -> None:
    hook = path()
    create(api, receiver.url(hook), eventTypes=["incident.declared"], format="SLACK")
    incident = declare(api, title="Slack me")
    wait_for(lambda: receiver.at(hook), 20)
    body = receiver.at(hook)[0].json()
    assert incident["key"] in body["text"] and "Slack me" in body["text"]
    assert body["blocks"][0]["type"] == "section"
    assert "Slack me" in body["blocks"][0]["text"]["text"]


# --- retries, Retry-After, giving up, disabling ---------------------------------------


def test_failed_attempts_are_retried_with_the_same_webhook_id(
    api: GraphQLClient, receiver: Receiver
) -> None:
    hook = path()
    receiver.on(hook, statuses=[500, 503, 200])
    created = create(api, receiver.url(hook), eventTypes=["incident.declared"])
    declare(api, title="Flaky receiver")
    wait_for(lambda: len(receiver.at(hook)) >= 3, 20)
    ids = {r.headers["webhook-id"] for r in receiver.at(hook)}
    assert len(ids) == 1
    for received in receiver.at(hook):
        received.verified(created["secret"])
    succeeded = ["SUCCEEDED"]
    wait_for(lambda: [d["status"] for d in deliveries(api, created["id"])] == succeeded, 10)
    [delivery] = deliveries(api, created["id"])
    assert delivery["attempts"] == 3
    assert [a["responseCode"] for a in delivery["history"]] == [500, 503, 200]
    assert endpoint(api, created["id"])["consecutiveFailures"] == 0


def test_retry_after_of_a_429_is_honoured(api: GraphQLClient, receiver: Receiver) -> None:
    hook = path()
    receiver.on(hook, statuses=[429, 200], retry_after="1")
    create(api, receiver.url(hook), eventTypes=["incident.declared"])
    declare(api, title="Slow down")
    wait_for(lambda: len(receiver.at(hook)) >= 2, 20)
    first, second = receiver.at(hook)[:2]
    # The schedule alone would retry after 0.2 s; the receiver asked for 1 s.
    assert second.at - first.at >= 0.9


def test_a_410_disables_the_endpoint(api: GraphQLClient, receiver: Receiver) -> None:
    hook = path()
    receiver.on(hook, statuses=[410])
    created = create(api, receiver.url(hook), eventTypes=["incident.declared"])
    declare(api, title="Gone")
    wait_for(lambda: not endpoint(api, created["id"])["enabled"], 20)
    assert "410" in endpoint(api, created["id"])["disabledReason"]
    assert len(receiver.at(hook)) == 1  # 410 is not retried
    [delivery] = deliveries(api, created["id"])
    assert delivery["status"] == "FAILED" and delivery["lastResponseCode"] == 410


def test_messages_failing_every_attempt_disable_the_endpoint_after_the_maximum(
    api: GraphQLClient, receiver: Receiver
) -> None:
    hook = path()
    receiver.on(hook, statuses=[500])
    created = create(api, receiver.url(hook), eventTypes=["incident.declared"])
    for n in range(2):  # WEBHOOK_MAX_FAILURES=2
        declare(api, title=f"Failing {n}")
        wait_for(lambda n=n: endpoint(api, created["id"])["consecutiveFailures"] == n + 1, 20)
    state = endpoint(api, created["id"])
    assert not state["enabled"]
    assert "2 messages in a row" in state["disabledReason"]
    failed = deliveries(api, created["id"], status=["FAILED"])
    assert len(failed) == 2 and all(d["attempts"] == 3 for d in failed)  # 1 + 2 retries
    sent = len(receiver.at(hook))
    declare(api, title="After disabling")
    time.sleep(1)
    assert len(receiver.at(hook)) == sent
    # Turning it back on resets the count and delivers new messages again.
    receiver.on(hook, statuses=[200])
    result = mutate(api, UPDATE, id=created["id"], enabled=True)
    assert result["endpoint"]["enabled"] and result["endpoint"]["consecutiveFailures"] == 0
    declare(api, title="Back on")
    wait_for(lambda: len(receiver.at(hook)) > sent, 20)


def test_a_hanging_or_flooding_receiver_does_not_hold_up_the_others(
    api: GraphQLClient, receiver: Receiver
) -> None:
    hanging, flooding, healthy = path(), path(), path()
    receiver.on(hanging, hang_seconds=3)
    receiver.on(flooding, body_bytes=100 * 1024 * 1024)
    slow = create(api, receiver.url(hanging), eventTypes=["incident.declared"])
    big = create(api, receiver.url(flooding), eventTypes=["incident.declared"])
    create(api, receiver.url(healthy), eventTypes=["incident.declared"])
    for n in range(8):
        declare(api, title=f"Busy {n}")
    # The healthy endpoint gets all eight while the hanging one times out one by one.
    wait_for(lambda: len(receiver.at(healthy)) >= 8, 20)
    assert len(receiver.at(hanging)) < 8
    wait_for(lambda: any(d["lastError"] for d in deliveries(api, slow["id"])), 20)
    errors = {d["lastError"] for d in deliveries(api, slow["id"]) if d["lastError"]}
    assert any("no answer within 1s" in e for e in errors), errors
    # 100 MB offered, 4 KB read: the 200 still counts.
    wait_for(lambda: len(deliveries(api, big["id"], status=["SUCCEEDED"])) >= 8, 30)


# --- test deliveries, redelivery, rotation ------------------------------------------------

SEND_TEST = """mutation($id: ID!) { sendTestWebhook(endpointId: $id) {
  delivery { id messageId status eventType } userErrors { field code message } } }"""
REDELIVER = """mutation($id: ID!) { redeliverWebhook(deliveryId: $id) {
  delivery { id messageId status } userErrors { field code message } } }"""
ROTATE = """mutation($id: ID!) { rotateWebhookSecret(id: $id) {
  endpoint { id secretRotatedUntil } secret userErrors { field code message } } }"""
DELETE = """mutation($id: ID!) { deleteWebhookEndpoint(id: $id) {
  endpoint { id } userErrors { field code message } } }"""


def test_send_test_and_redeliver_reuse_the_pipeline(api: GraphQLClient, receiver: Receiver) -> None:
    hook = path()
    created = create(api, receiver.url(hook), eventTypes=["maintenance.started"])
    sent = api(SEND_TEST, {"id": created["id"]})["sendTestWebhook"]
    assert sent["userErrors"] == [] and sent["delivery"]["eventType"] == "webhook.test"
    wait_for(lambda: receiver.at(hook), 20)
    payload = receiver.at(hook)[0].verified(created["secret"])
    assert payload["type"] == "webhook.test"
    assert receiver.at(hook)[0].headers["webhook-id"] == sent["delivery"]["messageId"]
    # The first attempt is sent before its delivery is written: the list may be empty yet.
    succeeded = ["SUCCEEDED"]
    wait_for(lambda: [d["status"] for d in deliveries(api, created["id"])] == succeeded, 10)
    again = api(REDELIVER, {"id": sent["delivery"]["id"]})["redeliverWebhook"]
    assert again["userErrors"] == [] and again["delivery"]["status"] == "PENDING"
    wait_for(lambda: len(receiver.at(hook)) == 2, 20)
    first, second = receiver.at(hook)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_a_rotated_secret_keeps_the_old_one_signing_for_a_while(
    api: GraphQLClient, receiver: Receiver
) -> None:
    hook = path()
    created = create(api, receiver.url(hook), eventTypes=["incident.declared"])
    rotated = api(ROTATE, {"id": created["id"]})["rotateWebhookSecret"]
    assert rotated["userErrors"] == [] and rotated["secret"] != created["secret"]
    assert rotated["endpoint"]["secretRotatedUntil"] is not None
    declare(api, title="After rotation")
    wait_for(lambda: receiver.at(hook), 20)
    received = receiver.at(hook)[0]
    received.verified(rotated["secret"])
    received.verified(created["secret"])


def test_deleting_an_endpoint_stops_its_deliveries(api: GraphQLClient, receiver: Receiver) -> None:
    hook = path()
    created = create(api, receiver.url(hook), eventTypes=["incident.declared"])
    result = api(DELETE, {"id": created["id"]})["deleteWebhookEndpoint"]
    assert result["userErrors"] == []
    declare(api, title="Nobody listens")
    time.sleep(1)
    assert receiver.at(hook) == []
    assert created["id"] not in [e["id"] for e in api(ENDPOINTS)["webhookEndpoints"]]


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"url": "not a url"}, "url", "http or https"),
        ({"url": "ftp://example.com/hook"}, "url", "http or https"),
        ({"url": "https://user:pw@example.com/"}, "url", "password"),
        ({"url": ""}, "url", "empty"),
        ({"eventTypes": []}, "eventTypes", "at least one"),
        ({"eventTypes": ["incident.exploded"]}, "eventTypes", "unknown event type"),
        ({"serviceIds": ["0123456789abcdef01234567"]}, "serviceIds", "unknown service"),
        ({"serviceIds": ["nope"]}, "serviceIds", "not a valid id"),
        ({"url": "http://no-such-host.invalid/hook"}, "url", "does not resolve"),
    ],
)
def test_bad_endpoints_are_refused_naming_the_field(
    api: GraphQLClient, receiver: Receiver, fields: dict[str, Any], field: str, words: str
) -> None:
    before = len(api(ENDPOINTS)["webhookEndpoints"])
    input_ = {"url": receiver.url(), "eventTypes": ["incident.declared"], **fields}
    result = mutate(api, CREATE, **input_)
    [error] = result["userErrors"]
    assert error["code"] in ("VALIDATION", "NOT_FOUND") and error["field"][-1] == field
    assert words in error["message"]
    assert result["endpoint"] is None and result["secret"] is None
    assert len(api(ENDPOINTS)["webhookEndpoints"]) == before


def test_webhooks_are_admin_only(hooks_service: ServiceProcess, receiver: Receiver) -> None:
    anonymous = GraphQLClient(hooks_service.url, key=None)
    variables = {"input": {"url": receiver.url(), "eventTypes": ["incident.declared"]}}
    body = anonymous.post(CREATE, variables).json()
    assert body["data"] is None or body["data"]["createWebhookEndpoint"] is None
    assert body["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")


# --- private networks --------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A service as production runs it: private targets refused."""
    name = f"guarded_{uuid.uuid4().hex[:8]}"
    env = service_env(
        mongo_uri,
        name,
        WEBHOOK_ALLOW_PRIVATE_NETWORKS="false",
        WEBHOOK_RETRY_SCHEDULE="0.2",
        JOBS_POLL_INTERVAL="0.2",
    )
    log = Path(tmp_path_factory.mktemp("guarded")) / "service.log"
    proc = ServiceProcess({**env, "GUARDED_DB": name}, log_path=log).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
        "http://0.0.0.0:9/hook",
    ],
)
def test_private_targets_are_refused_in_production(guarded: ServiceProcess, url: str) -> None:
    api = GraphQLClient(guarded.url)
    result = mutate(api, CREATE, url=url, eventTypes=["incident.declared"])
    [error] = result["userErrors"]
    assert error["code"] == "VALIDATION" and error["field"] == ["input", "url"]
    assert "private or local address" in error["message"]


def test_a_name_that_now_resolves_to_a_private_address_is_refused_at_delivery(
    guarded: ServiceProcess, mongo_uri: str, receiver: Receiver
) -> None:
    """DNS rebinding: the check at saving passed; the connection is checked again."""
    api = GraphQLClient(guarded.url)
    hook = path()
    # Saved as a public name would be; the name now resolves to loopback (what a
    # rebinding DNS server does between the check and the delivery).
    endpoint_id = "0" * 23 + "1"
    database = guarded.env["GUARDED_DB"]
    with MongoClient(mongo_uri) as client:
        # As the service writes an endpoint: the listeners flag first (store/listeners.py).
        client[database].counters.update_one(COUNTER, {"$set": {FIELD: True}}, upsert=True)
        client[database].webhook_endpoints.insert_one(
            {
                "_id": endpoint_id,
                "url": f"http://localhost:{receiver.port}{hook}",
                "description": None,
                "eventTypes": ["incident.declared"],
                "serviceIds": [],
                "format": "STANDARD",
                "enabled": True,
                "createdAt": time_now(),
                "updatedAt": time_now(),
                "createdBy": "test",
                "version": 1,
                "secret": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "consecutiveFailures": 0,
            }
        )
    declare(api, title="Rebinding")
    wait_for(lambda: any(d["lastError"] for d in deliveries(api, endpoint_id)), 20)
    errors = {d["lastError"] for d in deliveries(api, endpoint_id)}
    assert any("private or local address" in (e or "") for e in errors), errors
    assert receiver.at(hook) == []


def time_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
