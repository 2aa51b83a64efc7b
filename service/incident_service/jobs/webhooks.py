"""The webhook dispatcher: the first attempts of a message's fan-out, and the
delivery jobs that take over from there, on whichever replica claims them.

Most messages are sent by their fan-out job itself (`first_attempts`), to
every endpoint that answered well so far, before the deliveries are written:
the deliveries that succeeded go into a batch shared with other fan-outs
(store/delivery_batches.py) instead of a job and three writes each, which is
what keeps delivery from slowing the GraphQL path on the embedded database.
An endpoint that fails, or does not answer within the fan-out's budget, is
sent to through delivery jobs of its own for a while, so it cannot hold up
the others (per-endpoint concurrency, retries with backoff).

A delivery job sends the message (signed per Standard Webhooks, or as a
Slack message), then records the attempt and the job's next due time,
guarded by the lease (store/webhooks.py). A replica killed between sending
and recording leaves the job (the fan-out's or the delivery's) to another
after the lease: the receiver may get the message twice, with the same
`webhook-id`, never zero times.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from cachetools import TTLCache

from incident_service.domain import notifications
from incident_service.domain import webhooks as domain
from incident_service.domain.webhooks import (
    AttemptRecord,
    Endpoint,
    FirstAttempt,
    Verdict,
    WebhookFormat,
)
from incident_service.jobs.transport import WebhookClient
from incident_service.observability import metrics
from incident_service.store.codec import Doc
from incident_service.store.jobs import Job
from incident_service.store.outbox import message_from_doc
from incident_service.store.webhooks import WebhookStore

log = logging.getLogger(__name__)

#: How long a fan-out waits for its first attempts. A receiver slower than this
#: gets the message from a delivery job instead (the request goes on meanwhile).
FIRST_ATTEMPT_BUDGET = 2.0
#: After a failed or slow attempt, an endpoint is sent to only through delivery
#: jobs for this long (per replica).
SIDELINED_SECONDS = 60.0


class WebhookDispatcher:
    def __init__(
        self,
        store: WebhookStore,
        client: WebhookClient,
        *,
        retry_schedule: Sequence[float],
        max_failures: int,
        status_url: str | None,
        endpoint_concurrency: int = 2,
        timeout: float = 10.0,
    ) -> None:
        self._store = store
        self._client = client
        self._schedule = tuple(retry_schedule)
        self._max_failures = max_failures
        self._status_url = status_url
        self._timeout = timeout
        # The fan-outs' requests in flight per endpoint, at most `endpoint_concurrency`.
        self._lanes: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(endpoint_concurrency)
        )
        # Endpoints that failed or were slow lately: delivery jobs only, for a while.
        self._sidelined: TTLCache[str, bool] = TTLCache(10_000, SIDELINED_SECONDS)
        # First attempts still running after their fan-out stopped waiting.
        self._stragglers: set[asyncio.Task[FirstAttempt]] = set()

    # The fan-out's first attempts

    async def first_attempts(self, message_doc: Doc, now: datetime) -> dict[str, FirstAttempt]:
        """Send the message to every endpoint that wants it and answered well so far,
        at once; what each attempt gave, by endpoint id, for the fan-out to write."""
        endpoints = await self._audience(message_doc)
        if not endpoints:
            return {}
        tasks = {
            e.id: asyncio.create_task(self._first(e, message_doc, now), name=f"webhook:{e.id}")
            for e in endpoints
        }
        done, late = await asyncio.wait(tasks.values(), timeout=FIRST_ATTEMPT_BUDGET)
        for task in late:
            self._stragglers.add(task)
            task.add_done_callback(self._stragglers.discard)
        later = now + timedelta(seconds=FIRST_ATTEMPT_BUDGET + self._timeout)
        attempts: dict[str, FirstAttempt] = {}
        for endpoint_id, task in tasks.items():
            if task in done:
                attempts[endpoint_id] = task.result()
            else:
                # Its delivery job sends again once this request has surely ended.
                self._sidelined[endpoint_id] = True
                verdict = Verdict(domain.DeliveryStatus.PENDING, later, failed_for_good=False)
                attempts[endpoint_id] = FirstAttempt(None, verdict)
        return attempts

    async def _audience(self, message_doc: Doc) -> list[Endpoint]:
        message = message_from_doc(message_doc)
        target = message_doc.get("target")
        if target is not None:
            endpoint = await self._store.cached(target)
            candidates = [endpoint] if endpoint is not None and endpoint.enabled else []
        elif message.type == notifications.WEBHOOK_TEST:
            return []
        else:
            candidates = [
                e
                for e in await self._store.live_endpoints()
                if notifications.wanted(e.event_types, e.service_ids, message)
            ]
        return [
            e for e in candidates if e.consecutive_failures == 0 and e.id not in self._sidelined
        ]

    async def _first(self, endpoint: Endpoint, message_doc: Doc, now: datetime) -> FirstAttempt:
        async with self._lanes[endpoint.id]:
            record, verdict = await self._attempt(endpoint, message_doc, 0, now, message_doc["_id"])
        return FirstAttempt(record, verdict)

    async def count_failures(self, attempts: dict[str, FirstAttempt]) -> None:
        """After the fan-out wrote its deliveries and settled its job: first attempts that
        failed for good (410 Gone, or no retries configured) count against their
        endpoints. Once per message: only one run of a fan-out settles its job (the
        settling deletes it, guarded by the lease), and a run that dies before that
        has counted nothing."""
        for endpoint_id, first in attempts.items():
            if first.record is not None and first.verdict.failed_for_good:
                await self._store.count_failure(
                    endpoint_id, first.record, first.verdict, self._max_failures
                )

    # Delivery jobs

    async def deliver(self, job: Job, now: datetime) -> None:
        loaded = await self._store.load(job)
        if loaded is None:
            await self._store.cancel(job, "the delivery no longer exists")
            return
        delivery, endpoint, message_doc = loaded
        if delivery.status is not domain.DeliveryStatus.PENDING or (
            delivery.next_attempt_at is not None and delivery.next_attempt_at > now
        ):
            # Cancelled, or this attempt was recorded by a worker that died before it
            # settled the job.
            await self._store.settle(job, delivery)
            return
        if endpoint is None:
            await self._store.cancel(job, "the endpoint was deleted")
            return
        if not endpoint.enabled:
            await self._store.cancel(job, f"the endpoint is disabled: {endpoint.disabled_reason}")
            return
        if message_doc is None:
            await self._store.cancel(job, "the message has expired")
            return
        record, verdict = await self._attempt(
            endpoint, message_doc, delivery.attempts, now, delivery.id
        )
        await self._store.record_attempt(
            job, delivery, endpoint, record, verdict, max_failures=self._max_failures
        )

    async def _attempt(
        self, endpoint: Endpoint, message_doc: Doc, attempts: int, now: datetime, label: str
    ) -> tuple[AttemptRecord, Verdict]:
        """One POST and what it means for the delivery (`attempts` made before)."""
        headers, body = self.render(endpoint, message_doc, now)
        response = await self._client.post(endpoint.url, headers, body, endpoint=endpoint.id)
        record = AttemptRecord(now, response.status_code, response.latency_ms, response.error)
        retry_after = domain.parse_retry_after(response.retry_after, now)
        verdict = domain.judge(attempts + 1, record, self._schedule, retry_after)
        metrics.WEBHOOK_ATTEMPTS.labels(_result(response.status_code, response.error)).inc()
        metrics.WEBHOOK_LATENCY.observe(response.latency_ms / 1000)
        if verdict.status is not domain.DeliveryStatus.SUCCEEDED:
            self._sidelined[endpoint.id] = True
            log.info(
                "webhook %s to endpoint %s: attempt %d %s (%s)",
                label, endpoint.id, attempts + 1,
                response.status_code or "no answer", verdict.status.value,
            )  # fmt: skip
        return record, verdict

    def render(
        self, endpoint: Endpoint, message_doc: Doc, now: datetime
    ) -> tuple[dict[str, str], bytes]:
        message = message_from_doc(message_doc)
        if endpoint.format is WebhookFormat.SLACK:
            body = domain.slack_body(message, self._status_url)
        else:
            body = domain.standard_body(message.type, message.at, message.data)
        timestamp = int(now.timestamp())
        return domain.headers(
            endpoint.signing_secrets(now), message_doc["_id"], timestamp, body
        ), body

    async def close(self) -> None:
        """Stop the first attempts still running after their fan-out moved on."""
        for task in list(self._stragglers):
            task.cancel()
        await asyncio.gather(*self._stragglers, return_exceptions=True)


def _result(status_code: int | None, error: str | None) -> str:
    if status_code is None:
        return "refused" if error and error.startswith("refused") else "no_answer"
    return f"{status_code // 100}xx"
