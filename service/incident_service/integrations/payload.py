"""What both webhook formats share: a field-naming error and reading a sender's values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


class InvalidPayload(Exception):
    """The body is not an event we take; each problem names the field at fault."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def invalid(field: str, message: str) -> InvalidPayload:
    return InvalidPayload(Problem(field, message))


def mapping(value: Any, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid(field, "must be an object")
    return value


def string_map(value: Any, field: str) -> dict[str, str]:
    """Labels: an object of strings (Prometheus label values are always strings)."""
    found = mapping(value, field)
    for key, item in found.items():
        if not isinstance(item, str):
            raise invalid(f"{field}.{key}"[:200], "must be a string")
    return dict(found)


def text(value: Any, field: str, *, required: bool = False) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise invalid(field, "is missing or blank")
        return ""
    if not isinstance(value, str):
        raise invalid(field, "must be a string")
    return value


# Go writes nanoseconds; Python reads at most microseconds.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def timestamp(value: Any, field: str) -> datetime | None:
    """An ISO-8601 time with a zone, as UTC; None when absent or Go's zero time."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise invalid(field, "must be an ISO-8601 timestamp")
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value))
    except ValueError:
        raise invalid(field, f"{value[:40]!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise invalid(field, "must carry a time zone (e.g. Z)")
    if parsed.year <= 1:
        return None  # Alertmanager's "0001-01-01T00:00:00Z": not set
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 is past year 9999 in UTC
        raise invalid(field, f"{value[:40]!r} is out of range") from None
