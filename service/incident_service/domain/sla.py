"""SLA clocks as events: when an incident is at risk of, or has breached, a target. No I/O.

Two clocks start at detection (`detectedAt`, which defaults to `declaredAt`):
ACKNOWLEDGE runs until the incident is acknowledged, RESOLVE until it is
resolved; both stop when the incident is no longer open. Each clock has two
marks: AT_RISK at a fraction of its target, BREACHED at the target. A mark
is written once, as a timeline event, when the clock passes it: the store
keeps one timed job per incident due at the next mark (`next_mark`), and the
job writes what is due then (`mark`). A priority change moves the targets;
marks already written stay.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from incident_service.domain.incident import Change, Incident, Recorder
from incident_service.domain.priority import SlaTarget

SLA_AT_RISK = "SLA_AT_RISK"
SLA_BREACHED = "SLA_BREACHED"
#: The actor of SLA events on the timeline.
ACTOR = "sla"


class Clock(StrEnum):
    ACKNOWLEDGE = "ACKNOWLEDGE"
    RESOLVE = "RESOLVE"


class Mark(StrEnum):
    AT_RISK = "AT_RISK"
    BREACHED = "BREACHED"


@dataclass(frozen=True)
class Policy:
    targets: dict[str, SlaTarget]  # by priority value
    at_risk_fraction: float


@dataclass(frozen=True)
class Point:
    clock: Clock
    mark: Mark
    due: datetime

    @property
    def key(self) -> str:
        return f"{self.clock.value}:{self.mark.value}"


def start(incident: Incident) -> datetime:
    return incident.detected_at or incident.declared_at


def _running(incident: Incident, clock: Clock) -> bool:
    if not incident.is_open:
        return False
    if clock is Clock.ACKNOWLEDGE:
        return incident.acknowledged_at is None
    return incident.resolved_at is None


def points(incident: Incident, policy: Policy) -> list[Point]:
    """The marks still ahead of the incident's running clocks, soonest first."""
    target = policy.targets[incident.priority.value]
    begun = start(incident)
    found: list[Point] = []
    for clock, span in ((Clock.ACKNOWLEDGE, target.acknowledge), (Clock.RESOLVE, target.resolve)):
        if not _running(incident, clock):
            continue
        for mark, due in (
            (Mark.AT_RISK, begun + span * policy.at_risk_fraction),
            (Mark.BREACHED, begun + span),
        ):
            point = Point(clock, mark, due)
            if point.key not in incident.sla_marks:
                found.append(point)
    return sorted(found, key=lambda p: p.due)


def next_mark(incident: Incident, policy: Policy) -> datetime | None:
    """When the job must look next; None when no clock runs or every mark is written."""
    ahead = points(incident, policy)
    return ahead[0].due if ahead else None


def breach_due(incident: Incident, policy: Policy) -> datetime | None:
    """The next BREACHED mark of a running clock (the "about to breach" view sorts by it)."""
    due = [p.due for p in points(incident, policy) if p.mark is Mark.BREACHED]
    return min(due) if due else None


def stamp(incident: Incident, policy: Policy) -> Incident:
    """The incident with its stored SLA fields brought up to date (done on every write)."""
    return replace(incident, sla_due_at=breach_due(incident, policy))


def mark(incident: Incident, policy: Policy, now: datetime) -> Change:
    """The marks due at `now`, as timeline events; no events when nothing is due.

    A clock whose breach is due too gets only BREACHED: "at risk" after the
    fact tells nobody anything.
    """
    due = [p for p in points(incident, policy) if p.due <= now]
    breached = {p.clock for p in due if p.mark is Mark.BREACHED}
    due = [p for p in due if p.mark is Mark.BREACHED or p.clock not in breached]
    if not due:
        return Change(incident, ())
    rec = Recorder(incident.id, incident.last_seq, now, ACTOR)
    written = list(incident.sla_marks)
    for point in due:
        written.append(point.key)
        if point.mark is Mark.BREACHED:
            # An "at risk" not written by now never will be.
            written.append(f"{point.clock.value}:{Mark.AT_RISK.value}")
        words = "breached" if point.mark is Mark.BREACHED else "at risk"
        due_at = point.due.isoformat().replace("+00:00", "Z")
        rec.add(
            SLA_BREACHED if point.mark is Mark.BREACHED else SLA_AT_RISK,
            f"SLA {point.clock.value.lower()} target {words} ({incident.priority.value}, "
            f"due {due_at})",
            target=point.clock.value,
            dueAt=due_at,
            priority=incident.priority.value,
        )
    marked = replace(incident, sla_marks=tuple(dict.fromkeys(written)))
    return rec.commit(stamp(marked, policy))
