"""The worker every replica runs: claim due jobs, run their handler, retry on failure.

Jobs are written by the changes that call for them (store/jobs.py). The
worker polls for due ones every JOBS_POLL_INTERVAL seconds; which replica
gets a job is decided by the database (an atomic claim with a lease), never
by a timer in one process, so a job whose replica dies is taken over when
its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from incident_service.observability import metrics
from incident_service.store.jobs import Job, JobStore, LeaseLost

log = logging.getLogger(__name__)

#: A job's handler; it settles the job inside its own transaction.
Handler = Callable[[Job, datetime], Awaitable[None]]

#: Retry delays after a failed attempt, by attempt; the last one repeats.
RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0)


class Worker:
    def __init__(
        self,
        jobs: JobStore,
        handlers: Mapping[str, Handler],
        *,
        now: Callable[[], datetime],
        poll_interval: float,
        lease: float,
    ) -> None:
        self._jobs = jobs
        self._handlers = dict(handlers)
        self._now = now
        self._poll = poll_interval
        self._lease = timedelta(seconds=lease)
        self.owner = f"worker-{uuid.uuid4().hex[:12]}"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def tick(self) -> int:
        """Run every job due now; returns how many were run."""
        ran = 0
        while True:
            now = self._now()
            job = await self._jobs.claim(now, self._lease, self.owner)
            if job is None:
                return ran
            ran += 1
            await self._run(job, now)

    async def _run(self, job: Job, now: datetime) -> None:
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            await handler(job, now)
            metrics.JOBS_RUN.labels(job.kind, "ok").inc()
        except LeaseLost:
            # Another replica took the job over; its run is the one that counts.
            metrics.JOBS_RUN.labels(job.kind, "lease_lost").inc()
        except Exception as exc:
            delay = RETRY_DELAYS[min(job.attempts, len(RETRY_DELAYS)) - 1]
            log.warning("job %s failed (attempt %d); retrying in %gs", job.id, job.attempts,
                        delay, exc_info=True)  # fmt: skip
            metrics.JOBS_RUN.labels(job.kind, "failed").inc()
            await self._jobs.retry(job, now + timedelta(seconds=delay), repr(exc))

    def poke(self) -> None:
        """Look for due jobs now instead of at the next poll (a job was just written)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("job worker: claiming failed; retrying", exc_info=True)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="job-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
