"""ETags, If-None-Match and the headers of public documents."""

from __future__ import annotations

from starlette.requests import Request

from incident_service.web import http_cache


def _request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


def test_the_tag_is_a_quoted_hash_of_the_body() -> None:
    tag = http_cache.etag(b"{}")
    assert tag == http_cache.etag(b"{}") != http_cache.etag(b"[]")
    assert tag.startswith('"') and tag.endswith('"')


def test_if_none_match_lists_weak_tags_and_star() -> None:
    tag = '"abc"'
    assert http_cache.matches('"abc"', tag)
    assert http_cache.matches('"x", W/"abc"', tag)
    assert http_cache.matches("*", tag)
    assert not http_cache.matches('"abcd"', tag)
    assert not http_cache.matches(None, tag)
    assert not http_cache.matches("", tag)


def test_a_matching_tag_is_an_empty_304_with_the_same_headers() -> None:
    body = b'{"a":1}'
    tag = http_cache.etag(body)
    fresh = http_cache.document(_request(), body, tag, "application/json", 10)
    assert fresh.status_code == 200 and fresh.body == body
    assert fresh.headers["etag"] == tag
    assert fresh.headers["cache-control"] == "public, max-age=10"
    assert fresh.headers["access-control-allow-origin"] == "*"
    same = http_cache.document(_request(if_none_match=tag), body, tag, "application/json", 10)
    assert same.status_code == 304 and same.body == b""
    assert same.headers["etag"] == tag
    assert same.headers["cache-control"] == "public, max-age=10"


def test_rendered_bodies_are_reused_while_the_source_is_the_same_object() -> None:
    rendered = http_cache.Rendered()
    calls: list[int] = []

    def render() -> bytes:
        calls.append(1)
        return b"body %d" % len(calls)

    source = object()
    first = rendered.get("doc", source, "https://a", render)
    assert rendered.get("doc", source, "https://a", render) == first
    assert len(calls) == 1
    # Another page object, another address, another document: rendered again.
    rendered.get("doc", object(), "https://a", render)
    rendered.get("doc", source, "https://b", render)
    rendered.get("other", source, "https://b", render)
    assert len(calls) == 4
