"""JSON log lines: fields, request id, uvicorn access lines, and secret scrubbing."""

from __future__ import annotations

import contextvars
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from incident_service.observability import logs, requestid

SECRET = "isk_" + "s3cr3t" * 6


@pytest.fixture
def capture() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    logs.configure("INFO", "json", stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_object_per_line_with_time_level_logger_and_request_id(
    capture: io.StringIO,
) -> None:
    requestid.set_current("req-42")
    logging.getLogger("incident_service.test").warning("hello %s", "world", extra={"n": 3})
    (record,) = lines(capture)
    assert record["message"] == "hello world"
    assert record["level"] == "WARNING"
    assert record["logger"] == "incident_service.test"
    assert record["request_id"] == "req-42"
    assert record["n"] == 3
    assert record["time"].endswith("Z")


def test_uvicorn_access_lines_become_fields_without_the_query_string(
    capture: io.StringIO,
) -> None:
    access = logging.getLogger("uvicorn.access")
    access.info(
        '%s - "%s %s HTTP/%s" %d', "10.0.0.7:5123", "GET", f"/graphql?token={SECRET}", "1.1", 200
    )
    (record,) = lines(capture)
    assert record["message"] == "GET /graphql 200"
    assert (record["method"], record["path"], record["status"]) == ("GET", "/graphql", 200)
    assert record["client"] == "10.0.0.7:5123"
    assert SECRET not in capture.getvalue()


@pytest.mark.parametrize(
    "message",
    [
        f"Authorization: Bearer {SECRET}",
        f"key {SECRET} rejected",
        "connecting to mongodb://app:hunter2@db-0:27017/?replicaSet=rs0",
        "mongodb+srv://app:hunter2@cluster0.example.net/db",
        'admin_api_key="hunter2" loaded',
        "password=hunter2&user=x",
        "token: hunter2",
    ],
)
def test_secrets_are_scrubbed_from_messages(capture: io.StringIO, message: str) -> None:
    logging.getLogger("x").error(message)
    out = capture.getvalue()
    assert "hunter2" not in out and SECRET not in out
    assert "[REDACTED]" in out


def test_secrets_are_scrubbed_from_extra_fields_and_tracebacks(capture: io.StringIO) -> None:
    log = logging.getLogger("x")
    log.info("request", extra={"headers": {"Authorization": f"Bearer {SECRET}", "accept": "*/*"}})
    try:
        raise RuntimeError(f"cannot reach mongodb://app:hunter2@db:27017 with {SECRET}")
    except RuntimeError:
        log.exception("failed")
    first, second = lines(capture)
    assert first["headers"] == {"Authorization": "[REDACTED]", "accept": "*/*"}
    assert "hunter2" not in second["exc_info"] and SECRET not in second["exc_info"]
    assert "RuntimeError" in second["exc_info"]


def test_text_format_is_scrubbed_too() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logs.configure("INFO", "text", stream)
        logging.getLogger("x").info("Bearer %s", SECRET)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert SECRET not in stream.getvalue() and "Bearer [REDACTED]" in stream.getvalue()


def test_text_lines_name_the_request_only_inside_one() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logs.configure("INFO", "text", stream)

        def in_a_request() -> None:
            requestid.set_current("req-7")
            logging.getLogger("x").info("inside")

        # Fresh contexts: no request id of another test leaks in.
        contextvars.Context().run(logging.getLogger("x").info, "outside")
        contextvars.Context().run(in_a_request)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    outside, inside = stream.getvalue().splitlines()
    assert outside.endswith(" x outside") and "[" not in outside
    assert inside.endswith(" x [req-7] inside")


def test_ordinary_text_is_left_alone() -> None:
    text = "incident INC-42 moved to MONITORING by alice (tokens: 3)"
    assert logs.redact_text("incident INC-42 moved to MONITORING by alice") == (
        "incident INC-42 moved to MONITORING by alice"
    )
    assert "INC-42" in logs.redact_text(text)
