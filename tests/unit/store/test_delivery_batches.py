"""How settled deliveries are split into batch documents (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incident_service.store import delivery_batches
from incident_service.store.delivery_batches import SPAN, batch_docs

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def entry(n: int, at: datetime, endpoint: str = "e1") -> dict[str, object]:
    return {"messageId": f"m{n}", "endpointId": endpoint, "createdAt": at}


def test_a_batch_spans_at_most_a_minute_of_deliveries() -> None:
    """A fan-out that ran late hands in old deliveries with new ones: they go into a
    document of their own, so a page of the log reads only batches near its cursor."""
    late = [entry(0, T0), entry(1, T0 + SPAN), entry(2, T0 + SPAN + timedelta(seconds=1))]
    docs = batch_docs([late[2], late[0], late[1]])
    assert [[e["messageId"] for e in d["entries"]] for d in docs] == [["m0", "m1"], ["m2"]]
    assert all(d["newest"] - d["oldest"] <= SPAN for d in docs)
    assert docs[0]["oldest"] == T0 and docs[0]["newest"] == T0 + SPAN


def test_a_batch_lists_each_endpoint_and_message_once() -> None:
    docs = batch_docs([entry(0, T0, "e1"), entry(0, T0, "e2"), entry(1, T0, "e1")])
    assert len(docs) == 1
    assert docs[0]["endpointIds"] == ["e1", "e2"]
    assert docs[0]["messageIds"] == ["m0", "m1"]


def test_a_batch_holds_at_most_the_limit() -> None:
    entries = [entry(n, T0) for n in range(delivery_batches.BATCH_LIMIT + 1)]
    assert [len(d["entries"]) for d in batch_docs(entries)] == [delivery_batches.BATCH_LIMIT, 1]
