"""Liveness and readiness endpoints for Kubernetes probes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

#: Whether the process takes traffic, and the named checks that decided it.
Readiness = Callable[[], Awaitable[tuple[bool, dict[str, bool]]]]


async def healthz(request: Request) -> JSONResponse:
    """The process is alive and its event loop answers."""
    return JSONResponse({"status": "ok"})


def readyz(readiness: Readiness) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The readiness endpoint: 200 when ready, else 503; both list the checks."""

    async def endpoint(request: Request) -> JSONResponse:
        ready, checks = await readiness()
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return endpoint
