"""Keyset pagination: opaque cursors over a compound sort key.

A cursor encodes the order it was made for and the sort-key values of the
last row; the next page asks for rows strictly after that key. Unlike an
offset, rows inserted meanwhile never shift a page (no duplicate, no gap).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_service.domain.errors import DomainError, validation
from incident_service.store.codec import Doc


@dataclass(frozen=True)
class Order:
    name: str
    keys: tuple[tuple[str, int], ...]  # (field, 1 | -1); the last is a unique tiebreaker

    @property
    def sort(self) -> list[tuple[str, int]]:
        return list(self.keys)


def encode_cursor(order: Order, doc: Doc) -> str:
    values = [_enc(doc.get(field)) for field, _ in order.keys]
    raw = json.dumps([order.name, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(order: Order, cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if name != order.name or len(values) != len(order.keys):
            raise ValueError
        return [_dec(v) for v in values]
    except (
        ValueError,
        TypeError,
        OverflowError,
        RecursionError,
        binascii.Error,
        UnicodeDecodeError,
    ):
        raise _not_a_cursor() from None


def decode_keys(order: Order, cursor: str, types: tuple[type, ...]) -> list[Any]:
    """`decode_cursor`, for a caller that compares the values itself instead of the
    database: each value of its type in `types`, every datetime with its time zone."""
    values = decode_cursor(order, cursor)
    for value, kind in zip(values, types, strict=True):
        if not isinstance(value, kind) or (
            isinstance(value, datetime) and value.utcoffset() is None
        ):
            raise _not_a_cursor()
    return values


def _not_a_cursor() -> DomainError:
    return validation("after", "after is not a cursor from this list and order")


def after_filter(order: Order, values: list[Any]) -> Doc:
    """Rows strictly after `values` in `order`: (a > x) or (a = x and b > y) ..."""
    branches: list[Doc] = []
    for i, (field, direction) in enumerate(order.keys):
        branch: Doc = {f: values[j] for j, (f, _) in enumerate(order.keys[:i])}
        branch[field] = {"$gt" if direction == 1 else "$lt": values[i]}
        branches.append(branch)
    return {"$or": branches}


def _enc(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$d": value.isoformat()}
    return value


def _dec(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {"$d"} or not isinstance(value["$d"], str):
            raise ValueError
        return datetime.fromisoformat(value["$d"])
    if value is not None and not isinstance(value, (str, int, float)):
        raise ValueError
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValueError  # beyond what the database stores: a forged cursor
    return value
