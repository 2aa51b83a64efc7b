"""POST /integrations/alertmanager and POST /integrations/events/v2/enqueue.

Both read the whole event first, check every field, and only then write: a
bad event (or one alert of a notification) writes nothing. Credentials:
Alertmanager sends the routing key as `Authorization: Bearer`, Events v2 as
`routing_key` in the body.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from incident_service import clock
from incident_service.access.authenticator import Authenticator, RateLimited, bearer_token
from incident_service.domain.alerts import Signal, check_signal
from incident_service.domain.errors import DomainError
from incident_service.domain.integrations import Integration
from incident_service.integrations import alertmanager, events_v2
from incident_service.integrations.payload import InvalidPayload, Problem, invalid
from incident_service.observability import metrics
from incident_service.store.alerts import AlertStore

ALERTMANAGER_PATH = "/integrations/alertmanager"
EVENTS_V2_PATH = "/integrations/events/v2/enqueue"


class Unauthorized(Exception):
    """No routing key, or one that names no enabled integration."""


class TooLarge(Exception):
    """The body is over ALERT_MAX_BODY_BYTES."""


@dataclass(frozen=True)
class Intake:
    authenticator: Authenticator
    alerts: AlertStore
    max_body_bytes: int

    async def body(self, request: Request) -> Any:
        raw = await request.body()
        if len(raw) > self.max_body_bytes:
            raise TooLarge
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise invalid("body", "is not valid JSON") from None
        except RecursionError:
            # Nested thousands deep: small enough to pass the size limit, too deep to decode.
            raise invalid("body", "is nested too deeply") from None

    async def integration(self, key: str | None, request: Request) -> Integration:
        found = await self.authenticator.integration_for(key) if key else None
        if found is None:
            self.authenticator.check_ip(request.client.host if request.client else "")
            raise Unauthorized
        self.authenticator.check_intake(found)
        return found

    async def apply(self, integration: Integration, signals: Sequence[Signal], via: str) -> None:
        """Check all, then apply each; a check failure writes nothing."""
        checked: list[Signal] = []
        for i, signal in enumerate(signals):
            try:
                checked.append(check_signal(signal))
            except DomainError as error:
                field = error.field[-1] if error.field else "body"
                where = f"alerts[{i}].{field}" if via == "alertmanager" else field
                raise invalid(where, error.message) from None
        now = clock.now()
        for signal in checked:
            outcome = await self.alerts.ingest(integration, signal, now)
            metrics.ALERTS_RECEIVED.labels(via, outcome.result(signal.action)).inc()

    async def alertmanager(self, request: Request) -> Response:
        async def handle() -> Response:
            integration = await self.integration(
                bearer_token(request.headers.get("authorization")), request
            )
            signals = alertmanager.signals(await self.body(request))
            await self.apply(integration, signals, "alertmanager")
            return JSONResponse({"status": "success", "alerts": len(signals)})

        return await _answer(handle, _alertmanager_error, "alertmanager")

    async def events_v2(self, request: Request) -> Response:
        async def handle() -> Response:
            body = await self.body(request)
            integration = await self.integration(events_v2.routing_key(body), request)
            signal = events_v2.signal(body)
            await self.apply(integration, [signal], "events_v2")
            return JSONResponse(events_v2.accepted(signal.dedup_key), status_code=202)

        return await _answer(handle, _events_v2_error, "events_v2")

    def routes(self) -> list[Route]:
        return [
            Route(ALERTMANAGER_PATH, self.alertmanager, methods=["POST"]),
            Route(EVENTS_V2_PATH, self.events_v2, methods=["POST"]),
        ]


ErrorBody = Callable[[int, str, Sequence[Problem]], tuple[int, dict[str, Any]]]


async def _answer(handle: Callable[[], Awaitable[Response]], body: ErrorBody, via: str) -> Response:
    """The handler's response, or the documented error body of this endpoint."""
    headers: dict[str, str] = {}
    try:
        return await handle()
    except InvalidPayload as error:
        status, message, problems = 400, "invalid payload", error.problems
    except Unauthorized:
        status, message = 401, "the routing key is missing, unknown or disabled"
        problems = (Problem("routing_key", message),)
        headers["www-authenticate"] = "Bearer"
    except TooLarge:
        status, message, problems = 413, "payload too large", (Problem("body", "too large"),)
    except RateLimited as limited:
        status, message, problems = 429, "rate limited", (Problem("routing_key", str(limited)),)
        headers["retry-after"] = str(limited.retry_after)
    except DomainError as error:
        # A race lost too many times (CONFLICT): the sender retries, as it would a 5xx.
        status, message, problems = 409, error.message, (Problem("body", error.message),)
    metrics.ALERTS_RECEIVED.labels(via, "rejected").inc()
    status, content = body(status, message, problems)
    return JSONResponse(content, status_code=status, headers=headers)


def _alertmanager_error(
    status: int, message: str, problems: Sequence[Problem]
) -> tuple[int, dict[str, Any]]:
    return status, {
        "status": "error",
        "message": message,
        "errors": [{"field": p.field, "message": p.message} for p in problems],
    }


def _events_v2_error(
    status: int, message: str, problems: Sequence[Problem]
) -> tuple[int, dict[str, Any]]:
    if status == 401:
        # PagerDuty answers an unknown routing key with its 400 invalid-event body.
        return 400, events_v2.rejected(InvalidPayload(Problem("routing_key", "is invalid")))
    if status == 429:
        return status, {
            "status": "throttle event",
            "message": "Requests for this integration are arriving too quickly; retry later",
        }
    if status == 400:
        return status, events_v2.rejected(InvalidPayload(*problems))
    return status, {"status": "invalid event", "message": message, "errors": [message]}
