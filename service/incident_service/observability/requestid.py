"""The id of the request being served, shared by logging, error masking and responses.

A contextvar, so every log line and every masked error of one request (or
one websocket connection) carries the same id without passing it around.
The id comes from the client's `X-Request-ID` when it is sane, else a new
one; the response echoes it in `X-Request-ID`.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "x-request-id"

# Client-chosen ids are echoed into logs and headers: accept only short, plain ones.
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def new() -> str:
    return uuid.uuid4().hex


def accept(candidate: str | None) -> str:
    """The client's id if it is safe to echo, else a fresh one."""
    if candidate and _SAFE.match(candidate):
        return candidate
    return new()


def set_current(request_id: str) -> None:
    _current.set(request_id)


def current() -> str | None:
    """The id of the request being served, or None outside a request."""
    return _current.get()
