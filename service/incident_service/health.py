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
    """Ready to take traffic: not draining, and the database answers ping."""
    runtime: Runtime = request.app.state.runtime
    checks: dict[str, bool] = {"draining": runtime.draining}
    try:
        checks["database"] = await asyncio.wait_for(runtime.database.ping(), timeout=2.0)
    except TimeoutError:
        checks["database"] = False
    ready = checks["database"] and not runtime.draining
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
