"""Every Prometheus metric the service exports, defined in this one module.

Other modules import the metric objects from here and only increment or
observe them, so the full list (and its documentation in docs/operations.md) lives
in one place. All metrics use the process-wide default registry, which also
carries the client's `process_*` (RSS, CPU, open fds) and `python_gc_*`
collectors.

Label values are bounded: GraphQL operation names come from clients, so
they are sanitized and capped (see `operation_label`); everything else is
a fixed vocabulary (routes, error codes, subscription fields).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from incident_service import __version__

NAMESPACE = "incident_service"

# The *_created series double the output and no dashboard or alert uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated upstream

# Request latencies: sub-millisecond cache hits up to slow cross-shard scans.
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Change stream lag: normally milliseconds, seconds during a failover.
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0)

BUILD_INFO = Info(f"{NAMESPACE}_build", "Version of the running service.")
BUILD_INFO.info({"version": __version__})

# --- HTTP ------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    f"{NAMESPACE}_http_requests_total",
    "HTTP requests served, by route, method and status code.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    f"{NAMESPACE}_http_request_duration_seconds",
    "HTTP request latency from first byte received to response complete, by route.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)

# --- GraphQL ---------------------------------------------------------------
GRAPHQL_OPERATIONS = Counter(
    f"{NAMESPACE}_graphql_operations_total",
    "GraphQL operations executed, by operation name and type "
    "(query, mutation, subscription); unnamed operations are 'anonymous'.",
    ["operation", "type"],
)
GRAPHQL_DURATION = Histogram(
    f"{NAMESPACE}_graphql_operation_duration_seconds",
    "GraphQL query and mutation latency (parse, validate, execute), by operation name.",
    ["operation", "type"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_ERRORS = Counter(
    f"{NAMESPACE}_graphql_errors_total",
    "GraphQL errors returned, by extensions.code (INTERNAL_SERVER_ERROR for masked ones).",
    ["code"],
)
GRAPHQL_USER_ERRORS = Counter(
    f"{NAMESPACE}_graphql_user_errors_total",
    "Expected mutation failures reported in payload userErrors, by code.",
    ["code"],
)

# --- Websockets and subscriptions -----------------------------------------
WEBSOCKETS_OPEN = Gauge(
    f"{NAMESPACE}_websockets_open",
    "Websocket connections currently open on /graphql.",
)
WEBSOCKET_CLOSES = Counter(
    f"{NAMESPACE}_websocket_closes_total",
    "Websocket connections ended, by close code (1001 during a drain).",
    ["code"],
)
SUBSCRIPTIONS_ACTIVE = Gauge(
    f"{NAMESPACE}_subscriptions_active",
    "Subscriptions currently running, by root field.",
    ["subscription"],
)
EVENTS_FANNED_OUT = Counter(
    f"{NAMESPACE}_events_fanned_out_total",
    "Items handed to subscribers, by feed (incident_events, incident_changed, status_page).",
    ["feed"],
)
SUBSCRIBERS_DROPPED = Counter(
    f"{NAMESPACE}_subscribers_dropped_total",
    "Subscribers closed because their bounded queue overflowed (slow consumers).",
)

# --- Change stream ---------------------------------------------------------
CHANGE_STREAM_EVENTS = Counter(
    f"{NAMESPACE}_change_stream_events_total",
    "Change events read from the incident_events change stream.",
)
GRAPHQL_ROUND_TRIPS = Histogram(
    f"{NAMESPACE}_graphql_database_round_trips",
    "Database commands one GraphQL query or mutation sent, by operation name: a count that "
    "grows with page sizes is an N+1.",
    ["operation", "type"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100, 200),
)
CHANGE_STREAM_LAG = Histogram(
    f"{NAMESPACE}_change_stream_lag_seconds",
    "Delay between a change being committed (its wall time) and this process reading it.",
    buckets=LAG_BUCKETS,
)
CHANGE_STREAM_LAST_EVENT = Gauge(
    f"{NAMESPACE}_change_stream_last_event_timestamp_seconds",
    "Unix time of the last change read from the change stream.",
)
CHANGE_STREAM_RESTARTS = Counter(
    f"{NAMESPACE}_change_stream_restarts_total",
    "Times the change stream was reopened (from its resume token) after an error.",
)

# --- Timed work ------------------------------------------------------------
JOBS_RUN = Counter(
    f"{NAMESPACE}_jobs_run_total",
    "Timed jobs run by this replica, by kind and outcome (ok, failed, lease_lost).",
    ["kind", "outcome"],
)
WEBHOOK_ATTEMPTS = Counter(
    f"{NAMESPACE}_webhook_attempts_total",
    "Webhook delivery attempts by this replica, by result (2xx, 4xx, 5xx, no_answer, refused).",
    ["result"],
)
WEBHOOK_LATENCY = Histogram(
    f"{NAMESPACE}_webhook_attempt_seconds",
    "Time from sending a webhook to the receiver's answer (or giving up on it).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EMAILS_SENT = Counter(
    f"{NAMESPACE}_emails_total",
    "Emails to status page subscribers by this replica, by kind (confirmation, notification) "
    "and result (sent, retried, failed).",
    ["kind", "result"],
)
SLA_BREACHES = Counter(
    f"{NAMESPACE}_sla_breaches_total",
    "SLA breaches written by this replica's timer, by priority and target "
    "(ACKNOWLEDGE, RESOLVE); sum over replicas: each breach is written once.",
    ["priority", "target"],
)

# --- Alert intake ----------------------------------------------------------
ALERTS_RECEIVED = Counter(
    f"{NAMESPACE}_alerts_received_total",
    "Alert events taken in, by way in (alertmanager, events_v2, graphql) and result "
    "(new, repeat, acknowledged, resolved, suppressed, ignored, rejected).",
    ["via", "result"],
)

# --- Incidents and SLA -----------------------------------------------------
INCIDENTS_OPEN = Gauge(
    f"{NAMESPACE}_incidents_open",
    "Open incidents (not RESOLVED or CLOSED) in the whole database, by priority, counted "
    "at scrape time (cached 10 s); every replica reports the same number: aggregate with max.",
    ["priority"],
)

# --- Lifecycle -------------------------------------------------------------
DRAINING = Gauge(
    f"{NAMESPACE}_draining",
    "1 while the process drains after SIGTERM, else 0.",
)

#: Label values for operation names a signed-in caller chose, beyond the shipped ones.
MAX_OPERATION_NAMES = 300
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class OperationLabels:
    """Client-chosen operation names as label values, kept few so that no client can
    blow up the series count: the shipped operations' names always; names signed-in
    callers use, up to `limit` (a key is issued by an ADMIN and rate limited);
    'anonymous' for an unnamed operation, 'other' for the rest (an anonymous caller's
    own names among them: anyone may send any name)."""

    def __init__(self, known: frozenset[str], limit: int = MAX_OPERATION_NAMES) -> None:
        self._known = known
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str | None, *, signed_in: bool) -> str:
        if not name:
            return "anonymous"
        if name in self._known:
            return name
        if not signed_in or not _NAME.match(name):
            return "other"
        with self._lock:
            if name in self._seen:
                return name
            if len(self._seen) >= self._limit:
                return "other"
            self._seen.add(name)
            return name


def observe_change(change: Mapping[str, Any], now: float | None = None) -> None:
    """Record one change read from the change stream.

    The commit time is the event's `wallTime` (MongoDB 6.0+, millisecond
    precision), else its `clusterTime` (a BSON Timestamp, whole seconds).
    """
    now = time.time() if now is None else now
    CHANGE_STREAM_EVENTS.inc()
    CHANGE_STREAM_LAST_EVENT.set(now)
    committed: float | None = None
    wall = change.get("wallTime")
    if isinstance(wall, datetime):
        committed = (wall if wall.tzinfo else wall.replace(tzinfo=UTC)).timestamp()
    elif hasattr(change.get("clusterTime"), "time"):
        committed = float(change["clusterTime"].time)
    if committed is not None:
        CHANGE_STREAM_LAG.observe(max(0.0, now - committed))


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics: the Prometheus text exposition format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def metrics_endpoint_with(
    *refresh: Callable[[], Awaitable[None]], token: str = ""
) -> Callable[[Request], Awaitable[Response]]:
    """GET /metrics that first runs `refresh` (gauges read from the database at scrape
    time; each refresh keeps its own cache and never raises). With a `token`, only a
    scraper that sends `Authorization: Bearer <token>` is answered."""
    expected = hashlib.sha256(token.encode()).digest()

    def allowed(header: str) -> bool:
        scheme, _, given = header.partition(" ")
        # Digests of equal length: the comparison tells nothing of the token's length.
        digest = hashlib.sha256(given.strip().encode()).digest()
        return scheme.lower() == "bearer" and hmac.compare_digest(digest, expected)

    async def endpoint(request: Request) -> Response:
        if token and not allowed(request.headers.get("authorization", "")):
            return PlainTextResponse(
                "metrics need Authorization: Bearer <METRICS_BEARER_TOKEN>\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        for hook in refresh:
            await hook()
        return await metrics_endpoint(request)

    return endpoint
