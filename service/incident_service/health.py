"""Liveness and readiness endpoints for Kubernetes probes."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

from incident_service.runtime import Runtime


async def healthz(request: Request) -> JSONResponse:
    """The process is alive and its event loop answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready to take traffic: not draining, the database answers ping, the change stream runs."""
    runtime: Runtime = request.app.state.runtime
    checks: dict[str, bool] = {"draining": runtime.draining}
    try:
        checks["database"] = await asyncio.wait_for(runtime.database.ping(), timeout=2.0)
    except TimeoutError:
        checks["database"] = False
    # Without the change stream, subscribers here would silently miss events.
    checks["changeStream"] = runtime.change_stream.running
    ready = checks["database"] and checks["changeStream"] and not runtime.draining
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
