"""Builders for domain objects in unit tests (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from incident_service.domain import incident as domain
from incident_service.domain.enums import Impact, IncidentStatus, Urgency

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ACTOR = "tester"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def declared(
    title: str = "Checkout is down",
    impact: Impact = Impact.MEDIUM,
    urgency: Urgency = Urgency.MEDIUM,
) -> domain.Incident:
    change = domain.declare(
        domain.Declaration(title=title, impact=impact, urgency=urgency),
        id="0" * 24,
        number=7,
        now=T0,
        actor=ACTOR,
    )
    return change.incident


def in_status(status: IncidentStatus) -> domain.Incident:
    """An incident sitting in `status`, with no milestone stamped (isolates one transition)."""
    return replace(declared(), status=status, acknowledged_at=None)
