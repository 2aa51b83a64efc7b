"""The worker every replica runs: claim due jobs, run their handler, retry on failure.

Jobs are written by the changes that call for them (store/jobs.py). The
worker searches for due ones every JOBS_POLL_INTERVAL seconds; jobs known
to be due now (an outbox message seen on the change stream, the deliveries
a fan-out wrote) are hinted and claimed by id, without a search. Which
replica gets a job is decided by the database (an atomic claim with a
lease), never by a timer in one process, so a job whose replica dies is
taken over when its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from incident_service.observability import metrics
from incident_service.store.jobs import Candidate, Job, JobStore, LeaseLost, Leases

log = logging.getLogger(__name__)

#: Jobs a handler wrote that are due now: the worker claims them by id.
Hints = list[Candidate] | None
#: A job's handler; it settles the job inside its own transaction.
Handler = Callable[[Job, datetime], Awaitable[Hints]]

#: Retry delays after a failed attempt, by attempt; the last one repeats.
RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0)
#: Attempts before a failing job is given up (about two hours of retries).
MAX_ATTEMPTS = 15


class Worker:
    """Runs up to `concurrency` jobs at once, at most `group_limit` of one group (one
    webhook endpoint), so a receiver that hangs slows only its own deliveries."""

    def __init__(
        self,
        jobs: JobStore,
        handlers: Mapping[str, Handler],
        *,
        now: Callable[[], datetime],
        poll_interval: float,
        lease: float,
        concurrency: int = 1,
        group_limit: int = 1,
        leases: Leases | None = None,
    ) -> None:
        self._jobs = jobs
        self._handlers = dict(handlers)
        self._now = now
        self._poll = poll_interval
        self._leases = leases or Leases(lease)
        self._lease = self._leases.length
        self._concurrency = concurrency
        self._group_limit = group_limit
        self.owner = self._leases.owner
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[Hints]] = set()
        # The job each running task holds a lease on (released if stopped mid-run).
        self._held: dict[asyncio.Task[Hints], Job] = {}
        self._groups: Counter[str] = Counter()
        # Jobs known to be due now (written by a change or a fan-out): claimed by id.
        self._hints: deque[Candidate] = deque()
        # Jobs written already leased to this worker: run without a claim.
        self._leased: deque[Job] = deque()
        # Search for due jobs at the next round (the poll, a poke, or slots freed while
        # more were due than there were slots).
        self._scan = True
        self._more = False

    async def tick(self) -> int:
        """Run every job due now, one after another; returns how many were run."""
        ran = 0
        while True:
            now = self._now()
            job = await self._jobs.claim(now, self._lease, self._token())
            if job is None:
                return ran
            ran += 1
            await self._run(job, now)

    async def _run(self, job: Job, now: datetime) -> Hints:
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            hints = await handler(job, now)
            metrics.JOBS_RUN.labels(job.kind, "ok").inc()
            return hints
        except LeaseLost:
            # Another replica took the job over; its run is the one that counts.
            metrics.JOBS_RUN.labels(job.kind, "lease_lost").inc()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(job, now, exc)
        return None

    async def _failed(self, job: Job, now: datetime, exc: Exception) -> None:
        """Retry later, or give up after MAX_ATTEMPTS: a job that can never succeed
        (a bug, a poisoned document) must not run for ever."""
        try:
            if job.attempts >= MAX_ATTEMPTS:
                log.error("job %s failed %d times; giving up", job.id, job.attempts,
                          exc_info=exc)  # fmt: skip
                metrics.JOBS_RUN.labels(job.kind, "gave_up").inc()
                await self._jobs.give_up(job, repr(exc))
                return
            delay = RETRY_DELAYS[min(job.attempts, len(RETRY_DELAYS)) - 1]
            log.warning("job %s failed (attempt %d); retrying in %gs", job.id, job.attempts,
                        delay, exc_info=exc)  # fmt: skip
            metrics.JOBS_RUN.labels(job.kind, "failed").inc()
            await self._jobs.retry(job, now + timedelta(seconds=delay), repr(exc))
        except Exception:
            # The database is away too: the lease runs out and the job is run again.
            log.warning("job %s: could not record its failure", job.id, exc_info=True)

    def _token(self) -> str:
        return self._leases.token()

    def poke(self) -> None:
        """Look for due jobs now instead of at the next poll (a job was just written)."""
        self._scan = True
        self._wake.set()

    def hint(self, job: Candidate) -> None:
        """A job that was just written due now: claim it by id, without a search for
        due jobs (which the embedded database answers by reading every job)."""
        self._hints.append(job)
        self._wake.set()

    def owns(self, job: Job) -> bool:
        """Whether `job`'s lease is one of this worker's."""
        return self._leases.mine(job.lease_owner)

    def run_leased(self, job: Job) -> None:
        """A job written already leased to this worker (store/jobs.py `new_job`): run it
        in the next free slot, without a claim. Should it wait past its lease, another
        worker may claim it too; the settle, guarded by the lease, decides which run
        counts."""
        self._leased.append(job)
        self._wake.set()

    def _start(self, job: Job, now: datetime) -> None:
        task = asyncio.create_task(self._run(job, now), name=f"job:{job.id}")
        self._running.add(task)
        self._held[task] = job
        if job.group is not None:
            self._groups[job.group] += 1
        task.add_done_callback(functools.partial(self._done, group=job.group))

    def _full(self, group: str | None) -> bool:
        return len(self._running) >= self._concurrency or (
            group is not None and self._groups[group] >= self._group_limit
        )

    async def _take(self, candidate: Candidate) -> bool:
        """Claim one job by id into a free slot; False if it is not free or not there."""
        if self._full(candidate.group):
            return False
        now = self._now()
        job = await self._jobs.claim_id(candidate, now, self._lease, self._token())
        if job is None:
            return False
        self._start(job, now)
        return True

    async def _fill(self, scan: bool) -> None:
        """Claim jobs into free slots: the hinted ones by id, then (when `scan`) the
        due ones found by one query per round, each taken by id (atomically: another
        replica may have been first). A hint whose group is full is left for a later
        round; the periodic scan finds whatever hints missed. Jobs leased already go
        first."""
        while self._leased and len(self._running) < self._concurrency:
            self._start(self._leased.popleft(), self._now())
        for _ in range(len(self._hints)):
            hinted = self._hints.popleft()
            if len(self._running) >= self._concurrency:
                self._hints.appendleft(hinted)
                break
            group = hinted.group
            if group is not None and self._groups[group] >= self._group_limit:
                self._hints.append(hinted)
                continue
            await self._take(hinted)
        while scan and (free := self._concurrency - len(self._running)) > 0:
            busy = frozenset(g for g, n in self._groups.items() if n >= self._group_limit)
            # Twice the free slots: some candidates may be in groups that fill up.
            limit = 2 * free
            candidates = await self._jobs.due(self._now(), limit, busy)
            for found in candidates:
                if len(self._running) >= self._concurrency:
                    self._more = True
                    return
                await self._take(found)
            if len(candidates) < limit:
                self._more = False
                return  # nothing else is due outside the busy groups
            self._more = True

    def _done(self, task: asyncio.Task[Hints], group: str | None) -> None:
        self._running.discard(task)
        self._held.pop(task, None)
        if group is not None:
            self._groups[group] -= 1
            if self._groups[group] <= 0:
                del self._groups[group]
        if not task.cancelled():
            hints = task.result()
            if isinstance(hints, list):
                self._hints.extend(hints)
        # A slot is free: more may be due than there were slots, or hinted.
        self._scan = self._scan or self._more
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            scan, self._scan = self._scan, False
            try:
                await self._fill(scan)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("job worker: claiming failed; retrying", exc_info=True)
            try:
                await asyncio.wait_for(self._wake.wait(), self._poll)
            except TimeoutError:
                self._scan = True

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="job-worker")

    async def stop(self, grace: float = 5.0) -> None:
        """Claim nothing more, let running jobs finish for up to `grace` seconds, then
        cancel the rest and release their leases, so another replica takes them at once
        instead of after JOBS_LEASE_SECONDS (a rolling deploy would delay them)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        waiting, self._leased = list(self._leased), deque()
        for job in waiting:
            await self._release(job)
        if not self._running:
            return
        _, unfinished = await asyncio.wait(set(self._running), timeout=grace)
        held = [self._held[t] for t in unfinished if t in self._held]
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        for job in held:
            await self._release(job)

    async def _release(self, job: Job) -> None:
        try:
            await self._jobs.release(job)
        except Exception:
            log.warning("job %s: could not release its lease", job.id, exc_info=True)
