"""Process-wide logging: one JSON object per line on stdout, secrets scrubbed.

`configure` is called once by the CLI before the server starts; uvicorn is
then run with `log_config=None` so it keeps this setup, and its access log
lines become JSON objects with method, path, status and client fields.
Every line carries the id of the request it belongs to (requestid.py).

Secrets never reach the output: values under sensitive keys (authorization,
API keys, passwords, tokens, cookies) are replaced, and bearer tokens,
`isk_` API keys and MongoDB URI credentials are scrubbed from any text,
including messages, extra fields and tracebacks.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

from incident_service.observability import requestid

REDACTED = "[REDACTED]"

_SENSITIVE_KEY = re.compile(
    r"(authorization|cookie|password|passwd|secret|token|api[_-]?key|credential)", re.I
)
_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"\bisk_[A-Za-z0-9_-]{4,}"), f"isk_{REDACTED}"),
    (re.compile(r"(?i)(mongodb(?:\+srv)?://)[^@/\s\"']+@"), rf"\1{REDACTED}@"),
    (
        re.compile(
            r"(?i)\b((?:admin_)?api[_-]?key|password|passwd|secret|token|authorization)"
            r"(\s*[=:]\s*[\"']?)(?!\[)([^\s,;&\"'}]+)"
        ),
        rf"\1\2{REDACTED}",
    ),
)

# uvicorn.access records carry these positional args (uvicorn/protocols/*).
_ACCESS_ARGS = ("client", "method", "path", "http_version", "status")


def redact_text(text: str) -> str:
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, key: str = "") -> Any:
    """A copy of a log field with secrets replaced, recursing into dicts and lists."""
    if key and _SENSITIVE_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = requestid.current()
        return True


class AccessLogFilter(logging.Filter):
    """Turn uvicorn's positional access-log args into named fields.

    The query string is dropped from the path: it is client-controlled and
    may carry variables or tokens.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == len(_ACCESS_ARGS):
            fields = dict(zip(_ACCESS_ARGS, args, strict=True))
            path = str(fields["path"]).split("?", 1)[0]
            record.msg = "%s %s %s"
            record.args = (fields["method"], path, fields["status"])
            record.client = fields["client"]
            record.method = fields["method"]
            record.path = path
            record.status = fields["status"]
            record.http_version = fields["http_version"]
        return True


class JsonLogFormatter(JsonFormatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        at = datetime.fromtimestamp(record.created, UTC)
        return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # uvicorn's color_message duplicates message with terminal escapes.
        return {k: redact(v, k) for k, v in log_data.items() if k != "color_message"}


class TextLogFormatter(logging.Formatter):
    """For a developer's terminal (LOG_FORMAT=text); scrubbed like the JSON one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(request_tag)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        # Lines outside a request (start-up, the change stream) carry no id at all.
        rid = getattr(record, "request_id", None)
        record.request_tag = f" [{rid}]" if rid else ""
        return redact_text(super().format(record))


def configure(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Send every logger (ours, uvicorn's, pymongo's) through one scrubbed handler."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonLogFormatter() if fmt == "json" else TextLogFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogFilter) for f in access.filters):
        access.addFilter(AccessLogFilter())
    # The driver's own debug chatter (heartbeats, pool events) drowns the service's.
    logging.getLogger("pymongo").setLevel(max(logging.getLevelName(level), logging.INFO))
