"""Input limits shared by every command that takes text from a user."""

from __future__ import annotations

import re

from incident_service.domain.errors import validation

TITLE_MAX = 200
TEXT_MAX = 20_000
LABEL_MAX = 64
LABELS_MAX = 50
NAME_MAX = 200


def title(value: str, field: str = "title") -> str:
    cleaned = value.strip()
    if not cleaned:
        raise validation(field, f"{field} must not be empty")
    if len(cleaned) > TITLE_MAX:
        raise validation(
            field, f"{field} must be at most {TITLE_MAX} characters (got {len(cleaned)})"
        )
    return cleaned


def text(value: str | None, field: str, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise validation(field, f"{field} must not be empty")
        return None
    if len(value) > TEXT_MAX:
        raise validation(field, f"{field} must be at most {TEXT_MAX} characters (got {len(value)})")
    return value.strip()


def required_text(value: str, field: str) -> str:
    """Like `text`, for a field that must say something."""
    cleaned = text(value, field, required=True)
    return cleaned if cleaned is not None else ""


def name(value: str, field: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise validation(field, f"{field} must not be empty")
    if len(cleaned) > NAME_MAX:
        raise validation(field, f"{field} must be at most {NAME_MAX} characters")
    return cleaned


def labels(values: list[str], field: str = "labels") -> list[str]:
    if len(values) > LABELS_MAX:
        raise validation(field, f"at most {LABELS_MAX} labels are allowed (got {len(values)})")
    seen: dict[str, None] = {}
    for raw in values:
        label = raw.strip()
        if not label or len(label) > LABEL_MAX:
            raise validation(field, f"each label must be 1..{LABEL_MAX} characters")
        seen.setdefault(label, None)
    return list(seen)


def search(value: str, field: str = "search") -> str:
    """Text searched for in titles: never longer than a title can be."""
    if len(value) > TITLE_MAX:
        raise validation(field, f"{field} must be at most {TITLE_MAX} characters")
    return value


def label(value: str, field: str = "label") -> str:
    """One label to filter by: never longer than a label can be."""
    if len(value) > LABEL_MAX:
        raise validation(field, f"{field} must be at most {LABEL_MAX} characters")
    return value


_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")


def object_id(value: str, field: str = "id") -> str:
    """Incident, service and key ids are 24 hex digits (MongoDB ObjectIds); anything else
    is refused before it reaches the database."""
    if not _OBJECT_ID.fullmatch(value):
        raise validation(field, f"{field} {value[:40]!r} is not a valid id")
    return value.lower()


def page_size(first: int | None, default: int = 20, maximum: int = 100) -> int:
    """How many items a list returns: `first`, or `default` when omitted."""
    if first is None:
        return default
    if first < 0 or first > maximum:
        raise validation("first", f"first must be between 0 and {maximum}")
    return first
