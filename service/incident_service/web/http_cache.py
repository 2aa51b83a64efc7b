"""Responses for public, read-only documents: ETag, 304, a short shared cache life, CORS *.

Widgets and aggregators poll these documents; a poll that finds nothing new
costs a 304 with no body, and a cache in front of the service may serve the
rest for `max-age` seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable

from starlette.requests import Request
from starlette.responses import Response


def etag(body: bytes) -> str:
    """A strong validator: the same body always gives the same tag, in every replica."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return "*" in candidates or tag in candidates


def public_headers(tag: str, max_age: int) -> dict[str, str]:
    return {
        "etag": tag,
        "cache-control": f"public, max-age={max_age}",
        # Anonymous public data: any origin may read it. Always sent (not only
        # when the request has an Origin), so a shared cache never stores a
        # copy without it.
        "access-control-allow-origin": "*",
        "x-content-type-options": "nosniff",
    }


def document(request: Request, body: bytes, tag: str, media_type: str, max_age: int) -> Response:
    """`body` as a cacheable response, or an empty 304 if the client already has it."""
    headers = public_headers(tag, max_age)
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


class Rendered:
    """The last body of each document and its tag, reused while its inputs stay the same.

    `source` is compared by identity (the status page feed hands out the same
    object until something changes), `variant` by value (the page's address).
    A burst of polls then costs one render, not one each.
    """

    def __init__(self) -> None:
        self._last: dict[str, tuple[object, Hashable, bytes, str]] = {}

    def get(
        self, name: str, source: object, variant: Hashable, render: Callable[[], bytes]
    ) -> tuple[bytes, str]:
        last = self._last.get(name)
        if last is not None and last[0] is source and last[1] == variant:
            return last[2], last[3]
        body = render()
        tag = etag(body)
        self._last[name] = (source, variant, body, tag)
        return body, tag
