"""Component impacts of an incident: which component it holds in which status, and since when.

An impact is a period: it starts when set and ends (keeping `ended_at`) when
it is changed, removed, or when the incident is resolved. The periods are the
history that uptime is computed from; the open ones are what the derived
component status sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from incident_service.domain.enums import ComponentStatus
from incident_service.domain.errors import validation

#: Components one incident may impact at once.
MAX_IMPACTS = 100

_ALLOWED = (
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)


@dataclass(frozen=True)
class ImpactSpec:
    """What a caller asks for: this component in this status (now)."""

    service_id: str
    status: ComponentStatus
    #: For the timeline message only; the id is what counts.
    service_name: str = ""


@dataclass(frozen=True)
class ComponentImpact:
    service_id: str
    status: ComponentStatus
    started_at: datetime
    ended_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.ended_at is None


def check(specs: Sequence[ImpactSpec], field: str = "componentImpacts") -> list[ImpactSpec]:
    """The specs, one per component, each with a status an incident can cause."""
    if len(specs) > MAX_IMPACTS:
        raise validation(field, f"at most {MAX_IMPACTS} component impacts are allowed")
    seen: dict[str, ImpactSpec] = {}
    for spec in specs:
        if spec.status not in _ALLOWED:
            raise validation(
                field,
                f"an incident's impact must be one of {', '.join(s.value for s in _ALLOWED)} "
                f"(got {spec.status.value}); leave a component out to end its impact",
            )
        if spec.service_id in seen:
            raise validation(field, f"service {spec.service_id} is listed twice")
        seen[spec.service_id] = spec
    return list(seen.values())


def active(impacts: Sequence[ComponentImpact]) -> dict[str, ComponentStatus]:
    """The open impacts as {service id: status}."""
    return {i.service_id: i.status for i in impacts if i.active}


def start(specs: Sequence[ImpactSpec], now: datetime) -> tuple[ComponentImpact, ...]:
    return tuple(ComponentImpact(s.service_id, s.status, now) for s in specs)


def replace_active(
    impacts: Sequence[ComponentImpact], specs: Sequence[ImpactSpec], now: datetime
) -> tuple[ComponentImpact, ...]:
    """Make the open impacts exactly `specs`: unchanged ones keep their start,
    changed or removed ones end now, new or changed ones start now."""
    wanted = {s.service_id: s.status for s in specs}
    kept: list[ComponentImpact] = []
    for impact in impacts:
        if impact.active and wanted.get(impact.service_id) is not impact.status:
            kept.append(replace(impact, ended_at=now))
        else:
            kept.append(impact)
    still_open = active(kept)
    kept += [
        ComponentImpact(s.service_id, s.status, now)
        for s in specs
        if still_open.get(s.service_id) is not s.status
    ]
    return tuple(kept)


def end_all(impacts: Sequence[ComponentImpact], now: datetime) -> tuple[ComponentImpact, ...]:
    return tuple(replace(i, ended_at=now) if i.active else i for i in impacts)


def resume(
    impacts: Sequence[ComponentImpact], ended_at: datetime, now: datetime
) -> tuple[ComponentImpact, ...]:
    """Reopening: the impacts that the resolution ended start again, as new periods."""
    resumed = [
        ComponentImpact(i.service_id, i.status, now) for i in impacts if i.ended_at == ended_at
    ]
    latest = {r.service_id: r for r in resumed}
    return (*impacts, *latest.values())


def changed_services(
    before: Sequence[ComponentImpact], after: Sequence[ComponentImpact]
) -> set[str]:
    """Components whose open impact differs: their derived status must be recomputed."""
    old, new = active(before), active(after)
    return {sid for sid in old.keys() | new.keys() if old.get(sid) is not new.get(sid)}


def describe(specs: Sequence[ImpactSpec]) -> str:
    if not specs:
        return "No component impacted any more"
    named = (f"{s.service_name or s.service_id} {s.status.value}" for s in specs)
    return "Impact: " + ", ".join(named)
