"""The webhook dispatcher: the handler of one delivery job, on whichever replica claims it.

Sends the message (signed per Standard Webhooks, or as a Slack message),
then records the attempt and the job's next due time in one transaction
guarded by the lease. A replica killed between sending and recording
leaves the job to another after the lease: the receiver may get the
message twice, with the same `webhook-id`, never zero times.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from incident_service.domain import webhooks as domain
from incident_service.domain.webhooks import AttemptRecord, Endpoint, WebhookFormat
from incident_service.jobs.transport import WebhookClient
from incident_service.observability import metrics
from incident_service.store.codec import Doc
from incident_service.store.jobs import Job
from incident_service.store.outbox import message_from_doc
from incident_service.store.webhooks import WebhookStore

log = logging.getLogger(__name__)


class WebhookDispatcher:
    def __init__(
        self,
        store: WebhookStore,
        client: WebhookClient,
        *,
        retry_schedule: Sequence[float],
        max_failures: int,
        status_url: str | None,
    ) -> None:
        self._store = store
        self._client = client
        self._schedule = tuple(retry_schedule)
        self._max_failures = max_failures
        self._status_url = status_url

    async def deliver(self, job: Job, now: datetime) -> None:
        loaded = await self._store.load(job)
        if loaded is None:
            await self._store.cancel(job, "the delivery no longer exists")
            return
        delivery, endpoint, message_doc = loaded
        if endpoint is None:
            await self._store.cancel(job, "the endpoint was deleted")
            return
        if not endpoint.enabled:
            await self._store.cancel(job, f"the endpoint is disabled: {endpoint.disabled_reason}")
            return
        if message_doc is None:
            await self._store.cancel(job, "the message has expired")
            return
        headers, body = self.render(endpoint, message_doc, now)
        response = await self._client.post(endpoint.url, headers, body)
        record = AttemptRecord(now, response.status_code, response.latency_ms, response.error)
        retry_after = domain.parse_retry_after(response.retry_after, now)
        verdict = domain.judge(delivery.attempts + 1, record, self._schedule, retry_after)
        metrics.WEBHOOK_ATTEMPTS.labels(_result(response.status_code, response.error)).inc()
        metrics.WEBHOOK_LATENCY.observe(response.latency_ms / 1000)
        if verdict.status is not domain.DeliveryStatus.SUCCEEDED:
            log.info(
                "webhook %s to endpoint %s: attempt %d %s (%s)",
                delivery.id, endpoint.id, delivery.attempts + 1,
                response.status_code or "no answer", verdict.status.value,
            )  # fmt: skip
        await self._store.record_attempt(
            job, delivery, endpoint, record, verdict, max_failures=self._max_failures
        )

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


def _result(status_code: int | None, error: str | None) -> str:
    if status_code is None:
        return "refused" if error and error.startswith("refused") else "no_answer"
    return f"{status_code // 100}xx"
