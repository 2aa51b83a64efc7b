"""ITIL impact x urgency -> priority, and SLA targets per priority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from incident_service.domain.enums import Impact, Priority, Urgency

H, M, L = Impact.HIGH, Impact.MEDIUM, Impact.LOW
UH, UM, UL = Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW

MATRIX: dict[tuple[Impact, Urgency], Priority] = {
    (H, UH): Priority.P1,
    (H, UM): Priority.P2,
    (M, UH): Priority.P2,
    (H, UL): Priority.P3,
    (M, UM): Priority.P3,
    (L, UH): Priority.P3,
    (M, UL): Priority.P4,
    (L, UM): Priority.P4,
    (L, UL): Priority.P5,
}


def priority_of(impact: Impact, urgency: Urgency) -> Priority:
    return MATRIX[(impact, urgency)]


@dataclass(frozen=True)
class SlaTarget:
    acknowledge: timedelta
    resolve: timedelta


DEFAULT_SLA: dict[Priority, SlaTarget] = {
    Priority.P1: SlaTarget(timedelta(minutes=5), timedelta(hours=4)),
    Priority.P2: SlaTarget(timedelta(minutes=15), timedelta(hours=8)),
    Priority.P3: SlaTarget(timedelta(hours=1), timedelta(hours=24)),
    Priority.P4: SlaTarget(timedelta(hours=4), timedelta(days=3)),
    Priority.P5: SlaTarget(timedelta(days=1), timedelta(days=7)),
}


@dataclass(frozen=True)
class SlaStatus:
    acknowledge_due: datetime
    resolve_due: datetime
    acknowledge_breached: bool
    resolve_breached: bool


def sla_status(
    target: SlaTarget,
    declared_at: datetime,
    acknowledged_at: datetime | None,
    resolved_at: datetime | None,
    now: datetime,
) -> SlaStatus:
    """Breach means the milestone came (or is still missing) after its due time."""
    ack_due = declared_at + target.acknowledge
    res_due = declared_at + target.resolve
    return SlaStatus(
        acknowledge_due=ack_due,
        resolve_due=res_due,
        acknowledge_breached=(acknowledged_at or now) > ack_due,
        resolve_breached=(resolved_at or now) > res_due,
    )


def sla_targets_from_seconds(seconds: dict[str, int]) -> dict[Priority, SlaTarget]:
    """Targets from settings keys like `p1_ack` / `p1_resolve` (seconds)."""
    return {
        p: SlaTarget(
            timedelta(seconds=seconds[f"{p.value.lower()}_ack"]),
            timedelta(seconds=seconds[f"{p.value.lower()}_resolve"]),
        )
        for p in Priority
    }
