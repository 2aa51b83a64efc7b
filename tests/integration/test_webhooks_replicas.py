"""Webhooks from two replicas on one database: each message delivered once per endpoint, and
still delivered when a replica is killed (-9) while it holds deliveries."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

from tests.support.api import declare, mutate
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.receiver import Receiver, receiving
from tests.support.replicas import Replicas, two_replicas

CREATE = """mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id } secret userErrors { message } }
}"""


@pytest.fixture
def replicas(mongo_uri: str, tmp_path: Path) -> Iterator[Replicas]:
    with two_replicas(
        mongo_uri,
        tmp_path,
        "replicas",
        JOBS_LEASE_SECONDS="3",
        JOBS_POLL_INTERVAL="0.2",
        WEBHOOK_RETRY_SCHEDULE="0.5,0.5,0.5",
        WEBHOOK_TIMEOUT_SECONDS="5",
    ) as made:
        yield made


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def subscribe(api: GraphQLClient, url: str) -> str:
    result = mutate(api, CREATE, url=url, eventTypes=["incident.declared"])
    assert result["userErrors"] == []
    return str(result["secret"])


def attempts_of(service: ServiceProcess) -> float:
    """Delivery attempts this replica made, from its /metrics."""
    text = httpx.get(f"{service.url}/metrics", timeout=5).text
    found = re.findall(r"^incident_service_webhook_attempts_total\{[^}]*\} (\S+)$", text, re.M)
    return sum(float(v) for v in found)


def test_two_replicas_deliver_each_message_once_per_endpoint(
    replicas: Replicas, receiver: Receiver
) -> None:
    a, b, _ = replicas
    apis = [GraphQLClient(a.url), GraphQLClient(b.url)]
    secrets = [subscribe(apis[0], receiver.url(p)) for p in ("/one", "/two")]
    n = 30
    for i in range(n):
        declare(apis[i % 2], title=f"Replicated {i}")
    for path in ("/one", "/two"):
        wait_for(lambda path=path: len(receiver.at(path)) >= n, 60)
    for path, secret in zip(("/one", "/two"), secrets, strict=True):
        received = receiver.at(path)
        ids = [r.headers["webhook-id"] for r in received]
        assert len(ids) == n and len(set(ids)) == n
        titles = {r.verified(secret)["data"]["incident"]["title"] for r in received}
        assert titles == {f"Replicated {i}" for i in range(n)}
    # Every delivery was attempted by exactly one of the two replicas.
    assert attempts_of(a) + attempts_of(b) == 2 * n


def test_a_replica_killed_while_delivering_loses_nothing(
    replicas: Replicas, mongo_uri: str, receiver: Receiver
) -> None:
    a, b, database = replicas
    api = GraphQLClient(b.url)
    receiver.on("/slow", hang_seconds=1.5)
    secret = subscribe(api, receiver.url("/slow"))
    n = 16
    for i in range(n):
        declare(api, title=f"Survive {i}")

    with MongoClient(mongo_uri) as client:
        jobs = client[database].jobs

        def owners_holding_deliveries() -> set[str]:
            held = jobs.find(
                {"kind": "webhook", "status": "PENDING", "leaseUntil": {"$gt": datetime.now(UTC)}}
            )
            # A lease holder is `<worker>:<claim>`: one worker per replica.
            return {j["leaseOwner"].split(":")[0] for j in held}

        # Both replicas are in the middle of deliveries: kill one of them there.
        wait_for(lambda: len(owners_holding_deliveries()) == 2, 30, interval=0.05)
        a.signal(signal.SIGKILL)
        assert a.process is not None and a.process.wait(10) == -signal.SIGKILL

        def delivered() -> set[str]:
            return {r.headers["webhook-id"] for r in receiver.at("/slow")}

        def logged() -> set[str]:
            # Deliveries of their own, and those that succeeded first time, in batches.
            own = {d["messageId"] for d in client[database].webhook_deliveries.find()}
            batches = client[database].webhook_delivery_batches.find()
            return own | {m for b in batches for m in b["messageIds"]}

        # A first attempt is sent before its delivery is written: wait for both.
        wait_for(lambda: len(delivered()) == n and len(logged()) == n, 90)
        expected = logged()
    assert delivered() == expected and len(expected) == n
    # Duplicates are possible (the killed replica may have sent before dying), each with
    # the id of its message, and every one carries a valid signature.
    titles = {r.verified(secret)["data"]["incident"]["title"] for r in receiver.at("/slow")}
    assert titles == {f"Survive {i}" for i in range(n)}
