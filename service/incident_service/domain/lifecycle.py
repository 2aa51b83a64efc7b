"""The incident lifecycle: the one transition table, milestones, public status."""

from __future__ import annotations

from incident_service.domain.enums import IncidentStatus as S
from incident_service.domain.enums import PublicStatus

_FORWARD: tuple[S, ...] = (
    S.TRIGGERED,
    S.ACKNOWLEDGED,
    S.INVESTIGATING,
    S.IDENTIFIED,
    S.MONITORING,
    S.RESOLVED,
)


def _build_table() -> dict[S, frozenset[S]]:
    table: dict[S, set[S]] = {s: set() for s in S}
    # Forward moves, skips allowed, up to RESOLVED: an alert that clears by
    # itself goes straight from TRIGGERED to RESOLVED.
    for i, source in enumerate(_FORWARD):
        table[source].update(_FORWARD[i + 1 :])
    # CLOSED only after RESOLVED (once the review is done); it is final.
    table[S.RESOLVED].add(S.CLOSED)
    # Back edges: the fix did not hold, or the incident is reopened.
    table[S.IDENTIFIED].add(S.INVESTIGATING)
    table[S.MONITORING].add(S.INVESTIGATING)
    table[S.RESOLVED].add(S.INVESTIGATING)
    return {s: frozenset(targets) for s, targets in table.items()}


TRANSITIONS: dict[S, frozenset[S]] = _build_table()

#: Field stamped the first time an incident enters a status.
MILESTONES: dict[S, str] = {
    S.ACKNOWLEDGED: "acknowledged_at",
    S.IDENTIFIED: "identified_at",
    S.MONITORING: "mitigated_at",
    S.RESOLVED: "resolved_at",
    S.CLOSED: "closed_at",
}

_PUBLIC: dict[S, PublicStatus] = {
    S.TRIGGERED: PublicStatus.INVESTIGATING,
    S.ACKNOWLEDGED: PublicStatus.INVESTIGATING,
    S.INVESTIGATING: PublicStatus.INVESTIGATING,
    S.IDENTIFIED: PublicStatus.IDENTIFIED,
    S.MONITORING: PublicStatus.MONITORING,
    S.RESOLVED: PublicStatus.RESOLVED,
    S.CLOSED: PublicStatus.RESOLVED,
}

OPEN_STATUSES: frozenset[S] = frozenset(s for s in S if s not in (S.RESOLVED, S.CLOSED))


def can_transition(source: S, target: S) -> bool:
    return target in TRANSITIONS[source]


def public_status(status: S) -> PublicStatus:
    return _PUBLIC[status]


def is_open(status: S) -> bool:
    return status in OPEN_STATUSES
