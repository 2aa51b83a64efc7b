"""Idempotent declaration and optimistic concurrency, raced from parallel threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.support.api import (
    ADD_NOTE,
    DECLARE,
    TRANSITION,
    UPDATE,
    count,
    create_key,
    declare,
    get,
    mutate,
    timeline,
)
from tests.support.processes import GraphQLClient


def race(gql: GraphQLClient, n: int, work: Callable[[GraphQLClient, int], Any]) -> list[Any]:
    """Run `work(client, i)` in n threads released together, each with its own connection."""
    barrier = threading.Barrier(n)
    clients = [GraphQLClient(gql.url.removesuffix("/graphql")) for _ in range(n)]

    def run(i: int) -> Any:
        barrier.wait(timeout=60)
        return work(clients[i], i)

    try:
        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(run, range(n)))
    finally:
        for client in clients:
            client.http.close()


def test_same_idempotency_key_same_incident(gql: GraphQLClient, tag: str) -> None:
    key = f"{tag}-alert-1"
    first = declare(gql, "Disk full", tag=tag, idempotencyKey=key)
    again = declare(gql, "Disk full", tag=tag, idempotencyKey=key)
    assert again["id"] == first["id"] and again["key"] == first["key"]
    assert again["version"] == 1
    other = declare(gql, "Disk full", tag=tag, idempotencyKey=f"{key}-other")
    assert other["id"] != first["id"]
    assert count(gql, label=tag) == 2
    assert len(timeline(gql, first["id"])) == 1


def test_an_idempotency_key_with_another_declaration_is_refused(
    gql: GraphQLClient, tag: str
) -> None:
    key = f"{tag}-reused"
    first = declare(gql, "Disk full", tag=tag, idempotencyKey=key)
    for change in ({"title": "Disk full (other text)"}, {"title": "Disk full", "impact": "HIGH"}):
        payload = mutate(gql, DECLARE, labels=[tag], idempotencyKey=key, **change)
        assert payload["incident"] is None
        assert payload["userErrors"] == [
            {
                "field": ["input", "idempotencyKey"],
                "code": "IDEMPOTENCY_KEY_REUSED",
                "message": payload["userErrors"][0]["message"],
            }
        ]
    assert count(gql, label=tag) == 1
    assert get(gql, first["id"])["title"] == "Disk full"


def test_idempotency_keys_are_per_caller(gql: GraphQLClient, tag: str) -> None:
    """Another caller's same key is another key: it neither returns nor reveals the
    first caller's incident."""
    key = f"{tag}-shared"
    mine = declare(gql, "Disk full", tag=tag, idempotencyKey=key)
    secret, _ = create_key(gql, f"{tag}-other", "RESPONDER")
    theirs = declare(
        GraphQLClient(gql.url.removesuffix("/graphql"), key=secret),
        "Disk full", tag=tag, idempotencyKey=key,
    )  # fmt: skip
    assert theirs["id"] != mine["id"]
    assert count(gql, label=tag) == 2


def test_idempotency_key_under_parallel_requests(gql: GraphQLClient, tag: str) -> None:
    for round_ in range(5):
        key = f"{tag}-race-{round_}"

        def work(client: GraphQLClient, i: int, key: str = key) -> str:
            data = client(
                DECLARE,
                {"input": {"title": "race", "labels": [tag], "idempotencyKey": key}},
            )
            assert data["declareIncident"]["userErrors"] == []
            return str(data["declareIncident"]["incident"]["id"])

        ids = race(gql, 6, work)
        assert len(set(ids)) == 1, ids
        assert len(timeline(gql, ids[0])) == 1
    assert count(gql, label=tag) == 5


def test_concurrent_updates_same_expected_version_exactly_one_wins(
    gql: GraphQLClient, tag: str
) -> None:
    incident = declare(gql, tag=tag)
    rounds, writers = 12, 4
    for round_ in range(rounds):
        version = get(gql, incident["id"])["version"]

        def work(client: GraphQLClient, i: int, v: int = version, r: int = round_) -> Any:
            return mutate(client, UPDATE, id=incident["id"], expectedVersion=v, title=f"r{r} w{i}")

        results = race(gql, writers, work)
        winners = [r for r in results if not r["userErrors"]]
        losers = [r for r in results if r["userErrors"]]
        assert len(winners) == 1, results
        assert winners[0]["incident"]["version"] == version + 1
        for loser in losers:
            assert loser["incident"] is None
            (error,) = loser["userErrors"]
            assert error["code"] == "CONFLICT" and error["field"] == ["input", "expectedVersion"]
        assert get(gql, incident["id"])["title"] == winners[0]["incident"]["title"]
    final = get(gql, incident["id"])
    assert final["version"] == 1 + rounds
    events = timeline(gql, incident["id"])
    assert [e["seq"] for e in events] == list(range(1, rounds + 2))
    assert [e["type"] for e in events].count("UPDATED") == rounds


def test_concurrent_transitions_same_expected_version(gql: GraphQLClient, tag: str) -> None:
    targets = ["ACKNOWLEDGED", "INVESTIGATING", "RESOLVED"]
    for _ in range(4):
        incident = declare(gql, tag=tag)

        def work(client: GraphQLClient, i: int, iid: str = incident["id"]) -> Any:
            return mutate(client, TRANSITION, id=iid, to=targets[i], expectedVersion=1)

        results = race(gql, 3, work)
        winners = [r for r in results if not r["userErrors"]]
        assert len(winners) == 1, results
        assert sorted(r["userErrors"][0]["code"] for r in results if r["userErrors"]) == [
            "CONFLICT",
            "CONFLICT",
        ]
        final = get(gql, incident["id"])
        assert final["status"] == winners[0]["incident"]["status"] and final["version"] == 2
        assert [e["seq"] for e in timeline(gql, incident["id"])] == [1, 2]


def test_concurrent_notes_without_version_are_never_lost(gql: GraphQLClient, tag: str) -> None:
    incident = declare(gql, tag=tag)

    def work(client: GraphQLClient, i: int) -> list[bool]:
        done = []
        for n in range(4):
            payload = mutate(client, ADD_NOTE, id=incident["id"], body=f"w{i} n{n}")
            # Under heavy contention a writer may give up, but then it says so.
            assert payload["incident"] is not None or payload["userErrors"], payload
            done.append(not payload["userErrors"])
        return done

    results = race(gql, 3, work)
    accepted = {f"w{i} n{n}" for i, r in enumerate(results) for n, ok in enumerate(r) if ok}
    events = timeline(gql, incident["id"])
    notes = [e["message"] for e in events if e["type"] == "NOTE_ADDED"]
    assert sorted(notes) == sorted(accepted)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert get(gql, incident["id"])["version"] == 1 + len(notes)


def test_a_burst_of_notes_on_one_incident_all_land(gql: GraphQLClient, tag: str) -> None:
    # 25 writers at once without expectedVersion: each re-runs on fresh state after a
    # lost race, with a growing random wait, so none has to give up.
    incident = declare(gql, tag=tag)

    def work(client: GraphQLClient, i: int) -> list[bool]:
        payload = mutate(client, ADD_NOTE, id=incident["id"], body=f"burst {i}")
        return [payload["userErrors"] == []]

    results = race(gql, 25, work)
    assert all(ok for r in results for ok in r), results
    notes = [e["message"] for e in timeline(gql, incident["id"]) if e["type"] == "NOTE_ADDED"]
    assert sorted(notes) == sorted(f"burst {i}" for i in range(25))


def test_a_refused_declaration_takes_no_number(gql: GraphQLClient, tag: str) -> None:
    first = declare(gql, "Disk full", tag=tag)
    refused = mutate(gql, DECLARE, title=" ", labels=[tag])
    assert [e["code"] for e in refused["userErrors"]] == ["VALIDATION"]
    second = declare(gql, "Disk full again", tag=tag)
    assert int(second["key"].removeprefix("INC-")) == int(first["key"].removeprefix("INC-")) + 1
