"""The SLA job's handler: the marks due now, written by the store; counted for Prometheus."""

from __future__ import annotations

from datetime import datetime

from incident_service.domain import sla
from incident_service.observability import metrics
from incident_service.store.incidents import IncidentStore
from incident_service.store.jobs import Job


class SlaTimer:
    def __init__(self, incidents: IncidentStore) -> None:
        self._incidents = incidents

    async def check(self, job: Job, now: datetime) -> None:
        change = await self._incidents.check_sla(job, now)
        if change is None:
            return
        for event in change.events:
            if event.type == sla.SLA_BREACHED:
                metrics.SLA_BREACHES.labels(event.data["priority"], event.data["target"]).inc()
