"""Keyset cursors: round trip, tamper detection, the 'strictly after' filter."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from incident_service.domain.enums import UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.store.incidents import ORDERS
from incident_service.store.paging import (
    Order,
    after_filter,
    clamp_first,
    decode_cursor,
    encode_cursor,
)

NEWEST = ORDERS["NEWEST_FIRST"]
WHEN = datetime(2026, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
DOC = {"_id": "65f0c0ffee0000000000abcd", "declaredAt": WHEN, "priority": "P2"}


@pytest.mark.parametrize("name", list(ORDERS))
def test_round_trip(name: str) -> None:
    order = ORDERS[name]
    cursor = encode_cursor(order, DOC)
    assert "=" not in cursor and cursor.isascii()
    values = decode_cursor(order, cursor)
    assert values == [DOC[field] for field, _ in order.keys]
    assert values[[f for f, _ in order.keys].index("declaredAt")].tzinfo is not None


def test_cursor_is_bound_to_its_order() -> None:
    cursor = encode_cursor(NEWEST, DOC)
    with pytest.raises(DomainError) as caught:
        decode_cursor(ORDERS["OLDEST_FIRST"], cursor)
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


def test_clamp_first() -> None:
    assert clamp_first(None) == 20
    assert clamp_first(0) == 0 and clamp_first(100) == 100
    for bad in (-1, 101):
        with pytest.raises(DomainError):
            clamp_first(bad)
