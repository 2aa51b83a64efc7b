"""The outbox fan-out job's handler: first attempts, then the deliveries written.

The webhook dispatcher sends the message to the endpoints that answer well
before anything is written (jobs/webhooks.py); the outbox then writes every
audience's deliveries, those first attempts' outcomes included, and the
jobs still to run, each once by its id, then settles the fan-out job guarded
by its lease (store/outbox.py). A replica that dies in between leaves the
fan-out job to another after its lease, which sends again under the same
`webhook-id` and skips what was written.
"""

from __future__ import annotations

from datetime import datetime

from incident_service.jobs.webhooks import WebhookDispatcher
from incident_service.store.jobs import Candidate, Job
from incident_service.store.outbox import Outbox


class FanOut:
    def __init__(self, outbox: Outbox, dispatcher: WebhookDispatcher) -> None:
        self._outbox = outbox
        self._dispatcher = dispatcher

    async def __call__(self, job: Job, now: datetime) -> list[Candidate]:
        doc = await self._outbox.document(job.ref)
        sent = await self._dispatcher.first_attempts(doc, now) if doc is not None else {}
        due = await self._outbox.fan_out(job, now, sent)
        await self._dispatcher.count_failures(sent)
        return due
