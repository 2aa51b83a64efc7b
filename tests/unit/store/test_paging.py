"""Keyset cursors: round trip, tamper detection, the 'strictly after' filter."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from incident_service.domain.enums import UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.domain.query import IncidentOrder
from incident_service.store.incidents import sort_order
from incident_service.store.paging import (
    Order,
    after_filter,
    decode_cursor,
    decode_keys,
    encode_cursor,
)

NEWEST = sort_order(IncidentOrder.NEWEST_FIRST)
WHEN = datetime(2026, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
DOC = {"_id": "65f0c0ffee0000000000abcd", "declaredAt": WHEN, "priority": "P2"}


@pytest.mark.parametrize("name", list(IncidentOrder))
def test_round_trip(name: str) -> None:
    order = sort_order(name)
    cursor = encode_cursor(order, DOC)
    assert "=" not in cursor and cursor.isascii()
    values = decode_cursor(order, cursor)
    assert values == [DOC[field] for field, _ in order.keys]
    assert values[[f for f, _ in order.keys].index("declaredAt")].tzinfo is not None


def test_cursor_is_bound_to_its_order() -> None:
    cursor = encode_cursor(NEWEST, DOC)
    with pytest.raises(DomainError) as caught:
        decode_cursor(sort_order(IncidentOrder.OLDEST_FIRST), cursor)
    assert caught.value.code is UserErrorCode.VALIDATION
    assert caught.value.field == ("input", "after")


def _b64(raw: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "%%%%",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _b64({"a": 1}),
        _b64(["NEWEST_FIRST", [1]]),
        _b64(["NEWEST_FIRST", [{"$d": "yesterday"}, "x"]]),
        _b64(["NEWEST_FIRST", [{"$where": "1"}, "x"]]),
        _b64(["NEWEST_FIRST", [[1, 2], "x"]]),
    ],
)
def test_garbage_cursor_is_a_validation_error(cursor: str) -> None:
    with pytest.raises(DomainError) as caught:
        decode_cursor(NEWEST, cursor)
    assert caught.value.code is UserErrorCode.VALIDATION


def test_after_filter_descending() -> None:
    assert after_filter(NEWEST, [WHEN, "id9"]) == {
        "$or": [
            {"declaredAt": {"$lt": WHEN}},
            {"declaredAt": WHEN, "_id": {"$lt": "id9"}},
        ]
    }


def test_after_filter_mixed_directions() -> None:
    order = Order("X", (("priority", 1), ("declaredAt", -1), ("_id", -1)))
    assert after_filter(order, ["P2", WHEN, "id"])["$or"] == [
        {"priority": {"$gt": "P2"}},
        {"priority": "P2", "declaredAt": {"$lt": WHEN}},
        {"priority": "P2", "declaredAt": WHEN, "_id": {"$lt": "id"}},
    ]


def test_keys_compared_in_python_must_be_of_their_type() -> None:
    """A cursor the delivery log compares itself: a date without a time zone, or a
    value of another type, is refused as not a cursor, not compared."""
    order = Order("NEWEST_FIRST", (("createdAt", -1), ("_id", -1)))
    good = encode_cursor(order, {"createdAt": WHEN, "_id": "m.e"})
    assert decode_keys(order, good, (datetime, str)) == [WHEN, "m.e"]
    for doc in (
        {"createdAt": WHEN.replace(tzinfo=None), "_id": "m.e"},
        {"createdAt": WHEN, "_id": 5},
        {"createdAt": "yesterday", "_id": "m.e"},
    ):
        with pytest.raises(DomainError) as refused:
            decode_keys(order, encode_cursor(order, doc), (datetime, str))
        assert refused.value.code is UserErrorCode.VALIDATION
        assert refused.value.field == ("input", "after")
