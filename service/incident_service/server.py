"""Uvicorn with a shutdown that drains first.

On SIGTERM (or SIGINT) the process at once reports not-ready (/readyz 503),
closes every open websocket with 1001 "server shutting down" so clients
reconnect to another pod (plain uvicorn would close them with 1012), and only
then lets uvicorn stop accepting, finish in-flight HTTP requests and exit 0,
all within SHUTDOWN_GRACE_SECONDS. A second signal during the drain forces
the exit.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
from types import FrameType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from incident_service.observability import gctuning, metrics
from incident_service.realtime.subscribers import SHUTDOWN
from incident_service.runtime import Runtime

log = logging.getLogger(__name__)

#: Longest wait for websocket close frames to go out before uvicorn takes over.
WEBSOCKET_DRAIN_MAX = 5.0


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, runtime: Runtime, banner: str | None) -> None:
        super().__init__(config)
        self.runtime = runtime
        self.banner = banner
        grace = runtime.settings.shutdown_grace_seconds
        self.websocket_budget = min(WEBSOCKET_DRAIN_MAX, grace / 4)
        # What is left of the grace period for in-flight requests.
        config.timeout_graceful_shutdown = (
            max(1, int(grace - self.websocket_budget)) if grace else None
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None

    async def startup(self, sockets: Any = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)
        gctuning.tune_after_startup()
        if self.banner and self.started:
            # After startup: printed only once the port is really listening.
            print(self.banner, file=sys.stderr, flush=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Not recorded in _captured_signals: uvicorn would re-raise it after a
        # clean shutdown and the process would die by the signal instead of exit 0.
        if self.runtime.draining or self._loop is None:
            if self.should_exit:
                self.force_exit = True
            self.should_exit = True
            return
        self.runtime.connections.draining = True
        metrics.DRAINING.set(1)
        # A fresh context: the signal may interrupt a request's task, whose
        # request id would otherwise stick to every log line of the drain.
        self._loop.call_soon_threadsafe(self._start_drain, context=contextvars.Context())

    def _start_drain(self) -> None:
        self._drain = asyncio.create_task(self._drain_websockets())

    async def _drain_websockets(self) -> None:
        try:
            count = len(self.runtime.connections)
            log.info("draining: closing %d websocket(s) with 1001", count)
            await self.runtime.connections.close_all(*SHUTDOWN, timeout=self.websocket_budget)
        finally:
            self.should_exit = True


def run(app: Starlette, banner: str | None = None, **kwargs: Any) -> None:
    """Like uvicorn.run, with the draining shutdown above and an optional start-up banner."""
    config = uvicorn.Config(app, **kwargs)
    DrainingServer(config, app.state.runtime, banner).run()
